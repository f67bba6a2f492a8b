"""Settings of the console server (`kubetenancy console run`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ConsoleConfig:
    api_server: str
    """The API server's URL (in a cluster: https://kubernetes.default.svc)."""
    api_ca_file: Path
    """CA of the API server's serving certificate."""
    public_url: str
    """The console's own URL as browsers reach it (redirects and Origin checks use it)."""
    cert_file: Path | None
    key_file: Path | None
    """No certificate: plain HTTP, for behind a TLS-terminating Ingress (browsers still see HTTPS)."""
    addr: str = "127.0.0.1"
    port: int = 8443
    issuer: str | None = None
    """OIDC issuer; without one only bearer-token login is offered."""
    issuer_ca_file: Path | None = None
    client_id: str = "kubetenancy-console"
    client_secret_file: Path | None = None
    idle_seconds: float = 1800.0
    max_seconds: float = 8 * 3600.0

    def api_kubeconfig(self) -> dict[str, Any]:
        """A kubeconfig with the API server and no credentials: every request brings the user's token."""
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "cluster",
                    "cluster": {"server": self.api_server, "certificate-authority": str(self.api_ca_file)},
                }
            ],
            "users": [{"name": "nobody", "user": {}}],
            "contexts": [{"name": "console", "context": {"cluster": "cluster", "user": "nobody"}}],
            "current-context": "console",
        }


def from_oidc_dir(config: ConsoleConfig, directory: Path) -> ConsoleConfig:
    """Fill the OIDC settings from a mounted Secret (`issuer`, `client-id`, `client-secret`, `ca.crt`), if any."""
    issuer = directory / "issuer"
    if not issuer.exists():
        return config
    client_id = directory / "client-id"
    ca = directory / "ca.crt"
    return replace(
        config,
        issuer=issuer.read_text().strip(),
        client_id=client_id.read_text().strip() if client_id.exists() else config.client_id,
        client_secret_file=directory / "client-secret",
        issuer_ca_file=ca if ca.exists() else config.issuer_ca_file,
    )
