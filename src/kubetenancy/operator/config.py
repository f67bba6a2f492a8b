"""How one operator process is configured (from `kubetenancy operator run` options)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class OperatorConfig:
    kubeconfig: Path | None
    """None: the in-cluster service account, else the current context of $KUBECONFIG."""
    cert_dir: Path
    """Where the webhook CA and serving certificate are kept (made on first start)."""
    webhook_addr: str = "127.0.0.1"
    webhook_port: int = 9443
    webhook_host: str | None = None
    """Host name the API server uses to reach the webhooks when they are not behind a Service."""
    webhook_service: tuple[str, str] | None = None
    """(namespace, name) of the Service in front of the webhooks in a real cluster."""
    probe_addr: str = "127.0.0.1"
    probe_port: int = 8080
    bypassed_groups: frozenset[str] = frozenset()
    """Members of these groups pass every tenant admission rule (MTO's `bypassedGroups`)."""
    config_namespace: str = "multi-tenant-operator"
    """Where the IntegrationConfig `tenant-operator-config` lives."""
