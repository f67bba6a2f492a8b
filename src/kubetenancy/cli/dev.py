"""`kubetenancy dev …`: a local control plane (and the operator, and a node per cluster) for development.

`dev up` never throws data away as a side effect: on a plane that exists it restarts only what is not
running; a new, empty plane is the explicit `--fresh`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from kubetenancy.cli import dev_images
from kubetenancy.cli.progress import build_progress, console
from kubetenancy.localcluster import hostpackages, images, keycloak, prometheus, resume, sso_realm, versions
from kubetenancy.localcluster.companions import (
    APISERVER,
    OPERATOR,
    metrics_address,
    start_apiserver,
    start_operator,
)
from kubetenancy.localcluster.console_site import CONSOLE, start_console, wait_until_trusted
from kubetenancy.localcluster.controlplane import Cluster, ControlPlane, TokenWebhook
from kubetenancy.localcluster.gobuild import (
    HELM,
    PROMETHEUS,
    Binaries,
    NodeBinaries,
    ensure_binaries,
    ensure_helm,
    ensure_node_binaries,
    ensure_prometheus,
)
from kubetenancy.localcluster.processes import Process, free_port, port_is_listening, spawn, wait_until

app = typer.Typer(
    no_args_is_help=True,
    help="A local control plane: etcd, kube-apiserver, controller manager, and a node per cluster.",
)
app.add_typer(dev_images.app, name="images")


def _binaries(
    *, with_helm: bool = True, with_node: bool = False, with_prometheus: bool = True
) -> tuple[Binaries, NodeBinaries | None]:
    """The control plane's binaries, helm (for the operator's ClusterProfiles), Prometheus (showback) and the
    node's binaries, packages and images, built or installed on first use."""
    with build_progress(console) as report:
        binaries = ensure_binaries(report)
        if with_helm:
            ensure_helm(report)
        if with_prometheus:
            ensure_prometheus(report)
        if not with_node:
            return binaries, None
        try:
            installed = hostpackages.ensure()
        except hostpackages.MissingPackages as error:
            console.print(f"[red]error:[/] {error}", soft_wrap=True)
            raise typer.Exit(1) from None
        if installed:
            console.print(f"installed {', '.join(installed)}", soft_wrap=True)
        node_binaries = ensure_node_binaries(report)
        for recipe in images.NODE_IMAGES:
            if not (recipe.layout / "index.json").exists():
                report(f"image {recipe.slug}", 0, 1)
                images.ensure(recipe)
                report(f"image {recipe.slug}", 1, 1)
        return binaries, node_binaries


def _running_plane() -> ControlPlane:
    plane = ControlPlane.load(versions.state_dir())
    if plane is None or not plane.running():
        console.print("[red]error:[/] no local control plane is running: start one with `kubetenancy dev up`")
        raise typer.Exit(1)
    return plane


AUTHENTICATOR = "aws-authenticator"


def _authenticator_webhook(state_dir: Path) -> tuple[TokenWebhook, int]:
    """A fresh serving certificate and port for the EKS-token authenticator, before the API servers start."""
    port = free_port()
    return TokenWebhook.prepare(state_dir / "authenticator", port), port


def _start_authenticator(state_dir: Path, port: int, sts_endpoints: list[str]) -> Process:
    """Start it before the API servers, so it holds its port before any of them picks theirs."""
    directory = state_dir / "authenticator"
    first = Cluster("cluster-1", 0, state_dir)
    argv: list[str | Path] = [
        sys.executable, "-m", "kubetenancy", "aws", "authenticator",
        "--cluster", first.name, f"--port={port}",
        f"--cert-file={directory / 'server.crt'}", f"--key-file={directory / 'server.key'}",
        f"--client-ca-file={directory / 'ca.crt'}",
        f"--kubeconfig={first.kubeconfig()}",
    ]  # fmt: skip
    argv += [f"--sts-endpoint={endpoint}" for endpoint in sts_endpoints]
    authenticator = spawn(AUTHENTICATOR, argv, state_dir / "logs" / "aws-authenticator.log")
    wait_until(authenticator, partial(port_is_listening, port), 30, "listening")
    return authenticator


def _start_apiserver(plane: ControlPlane) -> None:
    """The aggregated API server, reading showback's figures from the plane's Prometheus (if it runs one)."""
    urls = [prometheus.url(p) for p in plane.processes if p.name == prometheus.PROMETHEUS]
    certs = plane.state_dir / "apiserver" / "certs"
    plane.adopt(start_apiserver(plane.cluster(), plane.logs_dir, certs, prometheus_url=next(iter(urls), None)))


@app.command()
def build(
    node: Annotated[bool, typer.Option(help="Also the node's binaries, Debian packages and images.")] = True,
) -> None:
    """Build (first time only) the pinned etcd, Kubernetes, Helm, Prometheus and node binaries and print where
    they are."""
    binaries, node_binaries = _binaries(with_node=node)
    for name, path in [*vars(binaries).items(), *vars(node_binaries or {}).items()]:
        typer.echo(f"{name.replace('_', '-')}: {path}")
    typer.echo(f"helm: {HELM.binary('helm')}")
    for _, name in PROMETHEUS.binaries:
        typer.echo(f"{name}: {PROMETHEUS.binary(name)}")


def _apply_as_admin(plane: ControlPlane, binaries: Binaries, objects: list[dict[str, Any]]) -> None:
    subprocess.run(
        [binaries.kubectl, f"--kubeconfig={plane.cluster().kubeconfig()}", "apply", "-f", "-"],
        input=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}).encode(),
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _start_prometheus(plane: ControlPlane, binaries: Binaries) -> None:
    """Prometheus scraping every node's kubelet and the operator (when it runs), allowed to read the kubelets."""
    operators = [metrics_address(p) for p in plane.processes if p.name == OPERATOR]
    targets = prometheus.Targets(tuple((n.name, n.network.node_ip) for n in plane.nodes()), tuple(operators))
    _apply_as_admin(plane, binaries, prometheus.rbac())
    plane.adopt(
        prometheus.start(
            PROMETHEUS.binary("prometheus"),
            plane.state_dir / "prometheus",
            plane.pki_dir,
            targets,
            plane.logs_dir / "prometheus.log",
        )
    )


def _start_sso(plane: ControlPlane, binaries: Binaries, site: keycloak.Site, idp: Process) -> None:
    """Wait for Keycloak and for the API servers to trust it, make its cluster-admins group cluster admins,
    and start the console."""
    with console.status("waiting for Keycloak (single sign-on)"):
        keycloak.wait_ready(site, idp)
        for cluster in plane.clusters:
            wait_until_trusted(cluster, site)
    _apply_as_admin(plane, binaries, [sso_realm.admin_binding()])
    with console.status("starting the console"):
        plane.adopt(start_console(plane.cluster(), site, plane.logs_dir / "console.log"))


def _start_fresh(
    clusters: int, node: bool, sts_endpoints: list[str], binaries: Binaries, sso: bool
) -> tuple[ControlPlane, tuple[keycloak.Site, Process] | None]:
    webhook, port = _authenticator_webhook(versions.state_dir())
    site = keycloak.prepare(versions.state_dir() / "keycloak") if sso else None
    plane = ControlPlane(
        versions.state_dir(),
        clusters=clusters,
        nodes=clusters if node else 0,
        token_webhook=webhook,
        authentication_config=site.authentication_configuration() if site else None,
    )
    with console.status(f"starting {clusters} cluster(s)"):
        authenticator = _start_authenticator(versions.state_dir(), port, sts_endpoints)
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
    return plane, (site, idp) if site and idp else None


def _existing_plane(clusters: int, node: bool, fresh: bool) -> ControlPlane | None:
    """The plane of the state directory, to be resumed; None when a new one is to start."""
    plane = ControlPlane.load(versions.state_dir())
    if plane is None:
        return None
    if fresh:
        plane.stop()
        return None
    if not plane.running() and not all(p.argv for p in plane.processes):
        console.print(
            f"[red]error:[/] the plane in {plane.state_dir} was made by an older kubetenancy, which did not record "
            "how to restart its components: start a new one with `kubetenancy dev up --fresh` (its data is discarded)",
            soft_wrap=True,
        )
        raise typer.Exit(1)
    if len(plane.clusters) != clusters or bool(plane.networks) != node:
        has = f"{len(plane.clusters)} cluster(s) {'with' if plane.networks else 'without'} nodes"
        console.print(
            f"[red]error:[/] the plane in {plane.state_dir} has {has}: run `kubetenancy dev up` with the same "
            "options to use it, or add `--fresh` to discard its data and start a new one",
            soft_wrap=True,
        )
        raise typer.Exit(1)
    return plane


@app.command()
def up(
    clusters: Annotated[int, typer.Option(min=1, help="How many clusters (API servers) to run.")] = 1,
    node: Annotated[
        bool, typer.Option(help="A kubelet node per cluster (containerd, CNI, kube-proxy, DNS) and the registry.")
    ] = True,
    operator: Annotated[
        bool, typer.Option(help="Run the operator and the aggregated API server against the first cluster.")
    ] = True,
    apply: Annotated[
        list[Path] | None, typer.Option(help="Manifests (files or folders) to `kubectl apply` as the admin.")
    ] = None,
    sts_endpoint: Annotated[
        list[str] | None, typer.Option(help="Also trust this STS base URL for EKS tokens (e.g. a test STS).")
    ] = None,
    fresh: Annotated[
        bool, typer.Option(help="Discard the data of the plane in the state directory and start an empty one.")
    ] = False,
    sso: Annotated[bool, typer.Option(help="Run Keycloak (trusted by the API servers) and the web console.")] = True,
    showback: Annotated[
        bool, typer.Option(help="Run Prometheus (showback's time series), scraping the nodes and the operator.")
    ] = True,
) -> None:
    """Start the local plane (building it the first time). On a plane that exists, restart only what is not
    running and keep its data: `dev up` is idempotent, and `--fresh` is the only way to start afresh."""
    binaries, node_binaries = _binaries(with_helm=operator, with_node=node, with_prometheus=showback)
    if sso:
        with console.status("fetching and building Keycloak (first time only)"):
            keycloak.ensure_keycloak()
    plane = _existing_plane(clusters, node, fresh)
    started_sso = None
    if plane is None:
        plane, started_sso = _start_fresh(clusters, node, sts_endpoint or [], binaries, sso)
    elif not plane.running():
        with console.status("restarting what is not running"):
            restarted = resume.repair(plane)
        console.print(f"restarted {', '.join(restarted)}; the data is kept", soft_wrap=True)
    if node_binaries is not None:
        with console.status("starting the node(s)"):
            plane.start_nodes(node_binaries, [(images.ensure(r), r.references) for r in images.NODE_IMAGES])
    if operator and not any(p.name == OPERATOR for p in plane.processes):
        with console.status("starting the operator"):
            plane.adopt(start_operator(plane.cluster(), plane.logs_dir, plane.state_dir / "operator" / "certs")[0])
    if showback and not any(p.name == prometheus.PROMETHEUS for p in plane.processes):
        with console.status("starting Prometheus"):
            _start_prometheus(plane, binaries)
    if operator and not any(p.name == APISERVER for p in plane.processes):
        with console.status("starting the aggregated API server"):
            _start_apiserver(plane)
    if started_sso is not None and not any(p.name == CONSOLE for p in plane.processes):
        _start_sso(plane, binaries, *started_sso)
    for path in apply or []:
        subprocess.run(
            [binaries.kubectl, f"--kubeconfig={plane.cluster().kubeconfig()}", "apply", "-R", "-f", path],
            check=True,
        )
    _print_status(plane)
    console.print(f"\n  export KUBECONFIG={plane.cluster().kubeconfig()}", soft_wrap=True, highlight=False)
    if any(p.name == CONSOLE for p in plane.processes):
        console.print("  single sign-on users and the console: kubetenancy dev sso", soft_wrap=True)
    for process in plane.processes:
        if process.name == prometheus.PROMETHEUS:
            console.print(f"  Prometheus (showback): {prometheus.url(process)}", soft_wrap=True, highlight=False)


@app.command()
def down() -> None:
    """Stop every process of the local plane and undo what its nodes changed on the machine. The data is
    kept: `dev up` resumes it, `dev up --fresh` discards it."""
    plane = ControlPlane.load(versions.state_dir())
    if plane is None:
        console.print("no local control plane is running")
        return
    plane.stop()
    console.print(f"stopped; the data is kept in {plane.state_dir} and the logs in {plane.logs_dir}", soft_wrap=True)


def _print_status(plane: ControlPlane) -> None:
    table = Table("COMPONENT", "PID", "STATE", "LOG")
    for process in plane.processes:
        state = "[green]running[/]" if process.alive() else "[red]stopped[/]"
        table.add_row(process.name, str(process.pid), state, process.log)
    console.print(table)
    for cluster in plane.clusters:
        console.print(f"{cluster.name}: {cluster.server}  kubeconfig {cluster.kubeconfig()}", soft_wrap=True)
    for node in plane.nodes():
        network = node.network
        console.print(
            f"{node.name}: node IP {network.node_ip} in network namespace {network.netns}, "
            f"pods {network.pod_cidr}, services {network.service_cidr}",
            soft_wrap=True,
        )


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


@app.command()
def sso() -> None:
    """Print the console's URL, the issuer, the CA to trust, and the SSO users' passwords."""
    _running_plane()
    try:
        site = keycloak.Site.load(versions.state_dir() / "keycloak")
    except FileNotFoundError:
        console.print("[red]error:[/] this plane runs without single sign-on (`dev up --no-sso`)")
        raise typer.Exit(1) from None
    typer.echo(f"console: {site.console_url}")
    typer.echo(f"issuer:  {site.issuer}")
    typer.echo(f"CA:      {site.ca_file}")
    typer.echo(f"login:   kubectl tenancy login --issuer {site.issuer} --ca-file {site.ca_file}")
    for user, password in site.passwords.items():
        groups = ",".join(sso_realm.SSO_USERS.get(user, ()))
        typer.echo(f"user {user}  password {password}" + (f"  groups {groups}" if groups else ""))
