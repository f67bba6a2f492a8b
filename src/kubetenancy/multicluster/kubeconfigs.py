"""Kubeconfigs for tenant admins, and when their tokens need renewing (pure).

A tenant admin's kubeconfig reaches the managed cluster exactly as the platform admin's does (same
server, same CA) but authenticates with the token of its own ServiceAccount there.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

RENEW_WHEN_LEFT = 0.2
"""Renew a token once less than this fraction of its validity is left (the kubelet renews at 80% too)."""


def current_cluster(kubeconfig: Mapping[str, Any]) -> dict[str, Any]:
    """The `cluster` entry (server, CA) of the kubeconfig's current context."""
    contexts = {c["name"]: c["context"] for c in kubeconfig.get("contexts") or []}
    clusters = {c["name"]: c["cluster"] for c in kubeconfig.get("clusters") or []}
    context = contexts.get(kubeconfig.get("current-context", ""))
    if context is None or context.get("cluster") not in clusters:
        raise ValueError("the kubeconfig's current context names no cluster it defines")
    return dict(clusters[context["cluster"]])


def token_kubeconfig(admin_kubeconfig: Mapping[str, Any], cluster_name: str, user: str, token: str) -> dict[str, Any]:
    """A one-context kubeconfig for `user` with `token` on the cluster the admin kubeconfig reaches."""
    context = f"{user}@{cluster_name}"
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": current_cluster(admin_kubeconfig)}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": context, "context": {"cluster": cluster_name, "user": user}}],
        "current-context": context,
    }


def parse_time(value: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(value.strip().strip('"').replace("Z", "+00:00"))


def token_due(expiration: str | None, lifetime_seconds: int, now: datetime.datetime) -> bool:
    """Whether a token expiring at `expiration` (RFC 3339; None: unknown) should be replaced now."""
    if not expiration:
        return True
    try:
        left = (parse_time(expiration) - now).total_seconds()
    except ValueError:
        return True
    return left < RENEW_WHEN_LEFT * lifetime_seconds
