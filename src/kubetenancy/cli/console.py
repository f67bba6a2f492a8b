"""`kubetenancy console run`: the web console (see kubetenancy.console)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kubetenancy.console.config import ConsoleConfig, from_oidc_dir
from kubetenancy.console.server import run as run_console

app = typer.Typer(no_args_is_help=True, help="The web console: tenants, namespaces, quotas, templates, SSO login.")


@app.command()
def run(
    api_server: Annotated[str, typer.Option(help="The API server's URL.")] = "https://kubernetes.default.svc",
    api_ca_file: Annotated[Path, typer.Option(help="CA of the API server.")] = Path(
        "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
    ),
    cert_file: Annotated[Path, typer.Option(help="The console's TLS certificate.")] = Path(
        "/etc/kubetenancy/console/tls.crt"
    ),
    key_file: Annotated[Path, typer.Option(help="Its key.")] = Path("/etc/kubetenancy/console/tls.key"),
    public_url: Annotated[str | None, typer.Option(help="URL browsers use (default https://ADDR:PORT).")] = None,
    addr: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (TLS).")] = 8443,
    issuer: Annotated[str | None, typer.Option(help="OIDC issuer URL; without it only token login is offered.")] = None,
    issuer_ca_file: Annotated[Path | None, typer.Option(help="CA of the issuer (default: system CAs).")] = None,
    client_id: Annotated[str, typer.Option(help="The console's OIDC client.")] = "kubetenancy-console",
    client_secret_file: Annotated[Path | None, typer.Option(help="File holding the client's secret.")] = None,
    oidc_dir: Annotated[
        Path | None, typer.Option(help="Read issuer, client-id, client-secret, ca.crt from here (a mounted Secret).")
    ] = None,
    plain_http: Annotated[bool, typer.Option(help="Serve HTTP (behind a TLS-terminating Ingress).")] = False,
    idle_seconds: Annotated[float, typer.Option(help="A session ends after this long without a request.")] = 1800,
    max_seconds: Annotated[float, typer.Option(help="A session ends this long after login.")] = 8 * 3600,
) -> None:
    """Serve the console over TLS; every API call is made with the logged-in user's own token."""
    config = ConsoleConfig(
        api_server=api_server,
        api_ca_file=api_ca_file,
        public_url=public_url or f"https://{addr}:{port}",
        cert_file=None if plain_http else cert_file,
        key_file=None if plain_http else key_file,
        addr=addr,
        port=port,
        issuer=issuer,
        issuer_ca_file=issuer_ca_file,
        client_id=client_id,
        client_secret_file=client_secret_file,
        idle_seconds=idle_seconds,
        max_seconds=max_seconds,
    )
    run_console(from_oidc_dir(config, oidc_dir) if oidc_dir else config)
