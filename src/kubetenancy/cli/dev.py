"""`kubetenancy dev …`: a local control plane (and the operator) for development and tests."""

from __future__ import annotations

import json
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
from kubetenancy.localcluster import keycloak, sso_realm, versions
from kubetenancy.localcluster.companions import OPERATOR, start_apiserver, start_operator
from kubetenancy.localcluster.console_site import CONSOLE, start_console, wait_until_trusted
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


def _start_sso(plane: ControlPlane, binaries: Binaries, site: keycloak.Site, idp: Process) -> None:
    """Wait for Keycloak, make its cluster-admins group cluster admins, and start the console."""
    with console.status("waiting for Keycloak (single sign-on)"):
        keycloak.wait_ready(site, idp)
        for cluster in plane.clusters:
            wait_until_trusted(cluster, site)
    subprocess.run(
        [binaries.kubectl, f"--kubeconfig={plane.cluster().kubeconfig()}", "apply", "-f", "-"],
        input=json.dumps(sso_realm.admin_binding()).encode(),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    with console.status("starting the console"):
        plane.adopt(start_console(plane.cluster(), site, plane.logs_dir / "console.log"))


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
    sso: Annotated[bool, typer.Option(help="Run Keycloak (trusted by the API servers) and the web console.")] = True,
) -> None:
    """Start the control plane (building it the first time) unless it already runs; idempotent."""
    binaries = _binaries(with_helm=operator)
    if sso:
        with console.status("fetching and building Keycloak (first time only)"):
            keycloak.ensure_keycloak()
    site, idp = None, None
    plane = ControlPlane.load(versions.state_dir())
    if plane is None or not plane.running() or len(plane.clusters) != clusters:
        previous = ControlPlane.load(versions.state_dir())
        if previous is not None:
            previous.stop()
        webhook, port = _authenticator_webhook(versions.state_dir())
        site = keycloak.prepare(versions.state_dir() / "keycloak") if sso else None
        authentication = site.authentication_configuration() if site else None
        plane = ControlPlane(
            versions.state_dir(), clusters=clusters, token_webhook=webhook, authentication_config=authentication
        )
        with console.status(f"starting {clusters} cluster(s)"):
            authenticator = _start_authenticator(versions.state_dir(), port, sts_endpoint or [])
            idp = keycloak.start(site, versions.state_dir() / "logs" / "keycloak.log") if site else None
            try:
                plane.start(binaries)
            except BaseException:
                authenticator.stop()
                if idp is not None:
                    idp.stop()
                raise
            plane.adopt(authenticator)
            if idp is not None:
                plane.adopt(idp)
    if operator and not any(p.name == OPERATOR for p in plane.processes):
        with console.status("starting the operator and the aggregated API server"):
            _start_operator(plane)
    if site is not None and idp is not None and not any(p.name == CONSOLE for p in plane.processes):
        _start_sso(plane, binaries, site, idp)
    for path in apply or []:
        subprocess.run(
            [binaries.kubectl, f"--kubeconfig={plane.cluster().kubeconfig()}", "apply", "-R", "-f", path],
            check=True,
        )
    _print_status(plane)
    console.print(f"\n  export KUBECONFIG={plane.cluster().kubeconfig()}")
    if (versions.state_dir() / "keycloak" / "site.json").exists() and any(p.name == CONSOLE for p in plane.processes):
        console.print("  single sign-on users and the console: kubetenancy dev sso")


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
    typer.echo(str(selected.kubeconfig(user)))


@app.command()
def sso() -> None:
    """Print the console's URL, the issuer, the CA to trust, and the SSO users' passwords."""
    _running_plane()
    try:
        site = keycloak.Site.load(versions.state_dir() / "keycloak")
    except FileNotFoundError:
        console.print("[red]error:[/] this control plane runs without single sign-on (`dev up --no-sso`)")
        raise typer.Exit(1) from None
    typer.echo(f"console: {site.console_url}")
    typer.echo(f"issuer:  {site.issuer}")
    typer.echo(f"CA:      {site.ca_file}")
    typer.echo(f"login:   kubectl tenancy login --issuer {site.issuer} --ca-file {site.ca_file}")
    for user, password in site.passwords.items():
        groups = ",".join(sso_realm.SSO_USERS.get(user, ()))
        typer.echo(f"user {user}  password {password}" + (f"  groups {groups}" if groups else ""))
