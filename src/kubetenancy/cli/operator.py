"""`kubetenancy operator run`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kubetenancy.localcluster.gobuild import BuildError, ensure_helm
from kubetenancy.operator.config import OperatorConfig
from kubetenancy.operator.run import run as run_operator

app = typer.Typer(no_args_is_help=True, help="Run the kubetenancy operator.")


def namespaced_name(value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    namespace, _, name = value.partition("/")
    if not namespace or not name:
        raise typer.BadParameter(f'"{value}" is not NAMESPACE/NAME, e.g. kubetenancy-system/kubetenancy-webhook')
    return namespace, name


@app.command()
def run(
    kubeconfig: Annotated[
        Path | None, typer.Option(help="Kubeconfig to use; default: $KUBECONFIG or the in-cluster account.")
    ] = None,
    cert_dir: Annotated[Path, typer.Option(help="Webhook CA and serving certificate (made if missing).")] = Path(
        "/tmp/kubetenancy-webhook-certs"
    ),
    webhook_addr: Annotated[str, typer.Option(help="Address the webhook server listens on.")] = "127.0.0.1",
    webhook_port: Annotated[int, typer.Option(help="Port of the webhook server.")] = 9443,
    webhook_host: Annotated[
        str | None, typer.Option(help="Host name the API server dials when not using --webhook-service.")
    ] = None,
    webhook_service: Annotated[
        str | None,
        typer.Option(help="NAMESPACE/NAME of the Service in front of the webhooks (real clusters)."),
    ] = None,
    webhook_client_ca: Annotated[
        Path | None,
        typer.Option(
            help="CA of the client certificate the API server presents to webhooks (its admission configuration); "
            "callers without one are refused. Omit only where the API server cannot present one (EKS)."
        ),
    ] = None,
    probe_addr: Annotated[str, typer.Option(help="Address of /healthz, /readyz and /metrics.")] = "127.0.0.1",
    probe_port: Annotated[int, typer.Option(help="Port of /healthz, /readyz and /metrics.")] = 8080,
    bypassed_groups: Annotated[
        str,
        typer.Option(help="Comma-separated groups that pass every tenant admission rule (MTO bypassedGroups)."),
    ] = "",
    config_namespace: Annotated[
        str, typer.Option(help="Namespace of the IntegrationConfig tenant-operator-config.")
    ] = "multi-tenant-operator",
    helm: Annotated[
        Path | None,
        typer.Option(help="helm binary for ClusterProfiles' charts; default: the pinned one (built on first use)."),
    ] = None,
    cluster_timeout: Annotated[
        float, typer.Option(min=1, help="Seconds one managed cluster may take per pass before it is failed.")
    ] = 30.0,
    cluster_concurrency: Annotated[int, typer.Option(min=1, help="Managed clusters worked on at the same time.")] = 8,
    resync_seconds: Annotated[
        float, typer.Option(min=1, help="Period of the pass that probes clusters, renews tokens, re-checks all.")
    ] = 60.0,
    work_dir: Annotated[Path | None, typer.Option(help="Scratch space for Helm; default: <cert-dir>-work.")] = None,
) -> None:
    """Run the operator in the foreground: CRDs, admission webhooks, reconcilers."""
    if helm is None:
        try:
            helm = ensure_helm()
        except BuildError as error:  # charts then fail with a status saying so; everything else works
            typer.echo(f"warning: no helm, ClusterProfiles' charts will fail: {error}", err=True)
    run_operator(
        OperatorConfig(
            kubeconfig=kubeconfig,
            cert_dir=cert_dir,
            webhook_addr=webhook_addr,
            webhook_port=webhook_port,
            webhook_host=webhook_host,
            webhook_service=namespaced_name(webhook_service),
            webhook_client_ca=webhook_client_ca,
            probe_addr=probe_addr,
            probe_port=probe_port,
            bypassed_groups=frozenset(g.strip() for g in bypassed_groups.split(",") if g.strip()),
            config_namespace=config_namespace,
            helm=helm,
            cluster_timeout=cluster_timeout,
            cluster_concurrency=cluster_concurrency,
            resync_seconds=resync_seconds,
            work_dir=work_dir or cert_dir.with_name(f"{cert_dir.name}-work"),
        )
    )
