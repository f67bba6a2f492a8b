"""`kubetenancy apiserver run`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kubetenancy.apiserver.config import ApiServerConfig
from kubetenancy.apiserver.run import run as run_apiserver
from kubetenancy.cli.operator import namespaced_name

app = typer.Typer(
    no_args_is_help=True,
    help="Run the aggregated API server (tenancy.kiosk.sh: Spaces, Accounts; showback.kubetenancy.dev: TenantCosts).",
)


@app.command()
def run(
    kubeconfig: Annotated[
        Path | None, typer.Option(help="Kubeconfig to use; default: $KUBECONFIG or the in-cluster account.")
    ] = None,
    cert_dir: Annotated[Path, typer.Option(help="Serving CA and certificate (made if missing).")] = Path(
        "/tmp/kubetenancy-apiserver-certs"
    ),
    addr: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (TLS).")] = 9444,
    service: Annotated[
        str, typer.Option(help="NAMESPACE/NAME of the Service the APIService points at.")
    ] = "kube-system/kubetenancy-apiserver",
    external_name: Annotated[
        str,
        typer.Option(help='Make the Service an ExternalName for this host (outside a cluster); "" leaves it alone.'),
    ] = "localhost",
    unregister_on_exit: Annotated[
        bool, typer.Option(help="Remove the APIServices on a clean stop (single replica, local use).")
    ] = False,
    prometheus_url: Annotated[
        str | None, typer.Option(help="Prometheus that showback's TenantCosts are read from (its base URL).")
    ] = None,
    config_namespace: Annotated[
        str, typer.Option(help="Namespace of the IntegrationConfig tenant-operator-config (showback's prices).")
    ] = "multi-tenant-operator",
) -> None:
    """Serve Spaces, Accounts and TenantCosts, filtered for each caller, and register them with APIServices."""
    parsed = namespaced_name(service)
    assert parsed is not None
    run_apiserver(
        ApiServerConfig(
            kubeconfig=kubeconfig,
            cert_dir=cert_dir,
            addr=addr,
            port=port,
            service=parsed,
            external_name=external_name or None,
            unregister_on_exit=unregister_on_exit,
            prometheus_url=prometheus_url,
            config_namespace=config_namespace,
        )
    )
