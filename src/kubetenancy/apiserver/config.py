"""How one aggregated API server process is configured (from `kubetenancy apiserver run` options)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ApiServerConfig:
    kubeconfig: Path | None
    """None: the in-cluster service account, else the current context of $KUBECONFIG."""
    cert_dir: Path
    """Where its serving CA and certificate are kept (made on first start)."""
    addr: str = "127.0.0.1"
    port: int = 9444
    service: tuple[str, str] = ("kube-system", "kubetenancy-apiserver")
    """(namespace, name) of the Service the APIService points at."""
    external_name: str | None = "localhost"
    """Outside a cluster: make that Service an ExternalName for this host. None: the Service exists."""
    unregister_on_exit: bool = False
    """Remove the APIService on a clean stop, so that discovery (and namespace deletion) never depends on a
    server that is gone. Leave off when several replicas serve the API."""
    prometheus_url: str | None = None
    """Where showback's TenantCosts are read from; None: they answer 503 and say so."""
    config_namespace: str = "multi-tenant-operator"
    """Where the IntegrationConfig (showback's prices) is."""

    @property
    def hosts(self) -> tuple[str, ...]:
        namespace, name = self.service
        names = (self.addr, "localhost", f"{name}.{namespace}.svc", f"{name}.{namespace}.svc.cluster.local")
        return tuple(dict.fromkeys(names))
