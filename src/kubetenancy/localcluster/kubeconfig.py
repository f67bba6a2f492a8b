"""Kubeconfig files for the local clusters' admin and test users."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def kubeconfig(
    cluster: str,
    server: str,
    ca_file: Path,
    user: str,
    *,
    token: str | None = None,
    client_cert: tuple[Path, Path] | None = None,
) -> dict[str, Any]:
    """A one-context kubeconfig for `user` on `cluster` (token or client certificate credentials)."""
    credentials: dict[str, str] = {}
    if token is not None:
        credentials["token"] = token
    if client_cert is not None:
        credentials["client-certificate"] = str(client_cert[0])
        credentials["client-key"] = str(client_cert[1])
    context = f"{user}@{cluster}"
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": {"server": server, "certificate-authority": str(ca_file)}}],
        "users": [{"name": f"{user}@{cluster}", "user": credentials}],
        "contexts": [{"name": context, "context": {"cluster": cluster, "user": f"{user}@{cluster}"}}],
        "current-context": context,
    }


def every_server(cert_file: Path, key_file: Path) -> dict[str, Any]:
    """Credentials for whatever server a client dials: one user named `*`, the name the API server's webhook
    clients fall back to when no user is named after the webhook's host."""
    user = {"client-certificate": str(cert_file), "client-key": str(key_file)}
    return {"apiVersion": "v1", "kind": "Config", "users": [{"name": "*", "user": user}]}


def write(path: Path, config: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)
    return path
