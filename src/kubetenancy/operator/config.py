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
    webhook_client_ca: Path | None = None
    """CA of the client certificate the API server presents to webhooks: callers without one it signed are
    refused before any review is read. None: every caller that reaches the port is served (EKS, whose API
    server presents none; there a NetworkPolicy must keep others away)."""
    probe_addr: str = "127.0.0.1"
    probe_port: int = 8080
    bypassed_groups: frozenset[str] = frozenset()
    """Members of these groups pass every tenant admission rule (MTO's `bypassedGroups`)."""
    config_namespace: str = "multi-tenant-operator"
    """Where the IntegrationConfig `tenant-operator-config` lives."""
    helm: Path | None = None
    """The helm binary that installs ClusterProfiles' charts (None: charts fail with a clear status)."""
    cluster_timeout: float = 30.0
    """Seconds one managed cluster's part of a pass may take before it is reported as failed."""
    cluster_concurrency: int = 8
    """Managed clusters worked on at the same time, for the whole operator."""
    resync_seconds: float = 60.0
    """How often every RoleRequest and ClusterProfile is re-checked and every SveltosCluster probed."""
    work_dir: Path = Path("/tmp/kubetenancy-operator")
    """Scratch space (Helm's caches, short-lived kubeconfig files)."""
