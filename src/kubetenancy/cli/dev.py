"""`kubetenancy dev …`: a local control plane (and the operator) for development and tests."""

from __future__ import annotations

import subprocess
import sys
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from kubetenancy import pki
from kubetenancy.localcluster import versions
from kubetenancy.localcluster.companions import OPERATOR, start_apiserver, start_operator
from kubetenancy.localcluster.controlplane import Cluster, ControlPlane, TokenWebhook
from kubetenancy.localcluster.gobuild import HELM, Binaries, ensure_binaries, ensure_helm
from kubetenancy.localcluster.processes import Process, free_port, port_is_listening, spawn, wait_until

app = typer.Typer(no_args_is_help=True, help="A local control plane: etcd, kube-apiserver, controller manager.")
console = Console(stderr=True)


def _binaries(*, with_helm: bool = True) -> Binaries:
    """The control plane's binaries and (for the operator's ClusterProfiles) helm, built on first use."""
    with Progress(
        TextColumn("building {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("packages"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def report(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = progress.add_task(name, total=total)
            progress.update(tasks[name], completed=done, total=total)

        binaries = ensure_binaries(report)
        if with_helm:
            ensure_helm(report)
        return binaries


def _running_plane() -> ControlPlane:
    plane = ControlPlane.load(versions.state_dir())
    if plane is None or not plane.running():
        console.print("[red]error:[/] no local control plane is running: start one with `kubetenancy dev up`")
        raise typer.Exit(1)
    return plane


AUTHENTICATOR = "aws-authenticator"


def _authenticator_webhook(state_dir: Path) -> tuple[TokenWebhook, int]:
    """A fresh serving certificate and port for the EKS-token authenticator, before the API servers start."""
    directory = state_dir / "authenticator"
    ca = pki.new_ca("kubetenancy-authenticator-ca")
    ca_file, _ = ca.write(directory, "ca")
    pki.issue(ca, "kubetenancy-authenticator", hosts=("127.0.0.1",), server=True).write(directory, "server")
    port = free_port()
    return TokenWebhook(f"https://127.0.0.1:{port}/authenticate", ca_file), port


def _start_authenticator(state_dir: Path, port: int, sts_endpoints: list[str]) -> Process:
    """Start it before the API servers, so it holds its port before any of them picks theirs."""
    directory = state_dir / "authenticator"
    first = Cluster("cluster-1", 0, state_dir)
    argv: list[str | Path] = [
        sys.executable, "-m", "kubetenancy", "aws", "authenticator",
        "--cluster", first.name, f"--port={port}",
        f"--cert-file={directory / 'server.crt'}", f"--key-file={directory / 'server.key'}",
        f"--kubeconfig={first.kubeconfig()}",
    ]  # fmt: skip
    argv += [f"--sts-endpoint={endpoint}" for endpoint in sts_endpoints]
    authenticator = spawn(AUTHENTICATOR, argv, state_dir / "logs" / "aws-authenticator.log")
    wait_until(authenticator, partial(port_is_listening, port), 30, "listening")
    return authenticator


def _start_operator(plane: ControlPlane) -> None:
    operator, _ = start_operator(plane.cluster(), plane.logs_dir, plane.state_dir / "operator" / "certs")
    plane.adopt(operator)
    apiserver = start_apiserver(plane.cluster(), plane.logs_dir, plane.state_dir / "apiserver" / "certs")
    plane.adopt(apiserver)


@app.command()
def build() -> None:
    """Build (first time only) the pinned etcd, Kubernetes and Helm binaries and print where they are."""
    binaries = _binaries()
    for name, path in vars(binaries).items():
        typer.echo(f"{name.replace('_', '-')}: {path}")
    typer.echo(f"helm: {HELM.binary('helm')}")


@app.command()
def up(
    clusters: Annotated[int, typer.Option(min=1, help="How many clusters (API servers) to run.")] = 1,
    operator: Annotated[
        bool, typer.Option(help="Run the operator and the aggregated API server against the first cluster.")
    ] = True,
    apply: Annotated[
        list[Path] | None, typer.Option(help="Manifests (files or folders) to `kubectl apply` as the admin.")
    ] = None,
    sts_endpoint: Annotated[
        list[str] | None, typer.Option(help="Also trust this STS base URL for EKS tokens (e.g. a test STS).")
    ] = None,
) -> None:
    """Start the control plane (building it the first time) unless it already runs; idempotent."""
    binaries = _binaries(with_helm=operator)
    plane = ControlPlane.load(versions.state_dir())
    if plane is None or not plane.running() or len(plane.clusters) != clusters:
        previous = ControlPlane.load(versions.state_dir())
        if previous is not None:
            previous.stop()
        webhook, port = _authenticator_webhook(versions.state_dir())
        plane = ControlPlane(versions.state_dir(), clusters=clusters, token_webhook=webhook)
        with console.status(f"starting {clusters} cluster(s)"):
            authenticator = _start_authenticator(versions.state_dir(), port, sts_endpoint or [])
            try:
                plane.start(binaries)
            except BaseException:
                authenticator.stop()
                raise
            plane.adopt(authenticator)
    if operator and not any(p.name == OPERATOR for p in plane.processes):
        with console.status("starting the operator and the aggregated API server"):
            _start_operator(plane)
    for path in apply or []:
        subprocess.run(
            [binaries.kubectl, f"--kubeconfig={plane.cluster().kubeconfig()}", "apply", "-R", "-f", path],
            check=True,
        )
    _print_status(plane)
    console.print(f"\n  export KUBECONFIG={plane.cluster().kubeconfig()}")


@app.command()
def down() -> None:
    """Stop every process of the local control plane (its data is discarded)."""
    plane = ControlPlane.load(versions.state_dir())
    if plane is None:
        console.print("no local control plane is running")
        return
    plane.stop()
    console.print(f"stopped; logs are kept in {plane.logs_dir}")


def _print_status(plane: ControlPlane) -> None:
    table = Table("COMPONENT", "PID", "STATE", "LOG")
    for process in plane.processes:
        state = "[green]running[/]" if process.alive() else "[red]stopped[/]"
        table.add_row(process.name, str(process.pid), state, process.log)
    console.print(table)
    for cluster in plane.clusters:
        console.print(f"{cluster.name}: {cluster.server}  kubeconfig {cluster.kubeconfig()}")


@app.command()
def status() -> None:
    """Show the components of the local control plane and whether they run."""
    plane = ControlPlane.load(versions.state_dir())
    if plane is None:
        console.print("no local control plane is running")
        raise typer.Exit(1)
    _print_status(plane)
    if not plane.running():
        raise typer.Exit(1)


@app.command()
def env() -> None:
    """Print `export KUBECONFIG=…` for the admin of the first cluster: eval "$(kubetenancy dev env)"."""
    typer.echo(f"export KUBECONFIG={_running_plane().cluster().kubeconfig()}")


@app.command()
def kubeconfig(
    cluster: Annotated[str | None, typer.Option(help="Cluster name (default: the first).")] = None,
    user: Annotated[str | None, typer.Option(help="A test user (default: the admin).")] = None,
) -> None:
    """Print the path of a kubeconfig of the local control plane."""
    plane = _running_plane()
    try:
        selected = plane.cluster(cluster)
    except KeyError as error:
        console.print(f"[red]error:[/] {error.args[0]}")
        raise typer.Exit(1) from None
    if user is not None and user not in plane.users:
        console.print(f'[red]error:[/] no test user "{user}"; known users: {", ".join(plane.users)}')
        raise typer.Exit(1)
    path = selected.kubeconfig(user)
    if not path.is_file():  # never print a path that would leave kubectl to fall back to another kubeconfig
        console.print(f"[red]error:[/] {path} is missing: restart the control plane (`kubetenancy dev up`)")
        raise typer.Exit(1)
    typer.echo(str(path))
