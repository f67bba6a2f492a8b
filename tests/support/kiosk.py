"""Kiosk objects for tests: Accounts, AccountQuotas and namespaces that belong to an account."""

from __future__ import annotations

from typing import Any

from kubetenancy.k8s import Kube

CONFIG = "config.kiosk.sh/v1alpha1"
SPACES = "/apis/tenancy.kiosk.sh/v1alpha1/spaces"


def subjects(*users: str) -> list[dict[str, str]]:
    return [{"kind": "User", "name": u, "apiGroup": "rbac.authorization.k8s.io"} for u in users]


async def make_account(admin: Kube, name: str, *users: str, **space: Any) -> None:
    spec: dict[str, Any] = {"subjects": subjects(*users)}
    if space:
        spec["space"] = space
    await admin.apply({"apiVersion": CONFIG, "kind": "Account", "metadata": {"name": name}, "spec": spec})


async def make_account_quota(admin: Kube, name: str, account: str, hard: dict[str, str]) -> None:
    spec = {"account": account, "quota": {"hard": hard}}
    await admin.apply({"apiVersion": CONFIG, "kind": "AccountQuota", "metadata": {"name": name}, "spec": spec})


async def account_namespace(admin: Kube, name: str, account: str, **labels: str) -> None:
    """A namespace an admin labels as the account's (as an existing namespace is handed to an account, with
    `kubectl label --overwrite`: a merge patch, not the operator's field manager)."""
    wanted = {"kiosk.sh/account": account, **labels}
    if await admin.get("v1", "Namespace", name) is None:
        await admin.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": wanted}})
    else:
        await admin.patch("v1", "Namespace", name, {"metadata": {"labels": wanted}})


def space(name: str, account: str | None = None) -> dict[str, Any]:
    spec = {"account": account} if account else {}
    return {"apiVersion": "tenancy.kiosk.sh/v1alpha1", "kind": "Space", "metadata": {"name": name}, "spec": spec}


async def let_create_spaces(admin: Kube, *users: str) -> None:
    """Bind Kiosk's `kiosk-edit` to the users, as the walkthrough does for dev and dba."""
    await admin.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": f"test-kiosk-edit-{'-'.join(sorted(users))}"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "kiosk-edit"},
            "subjects": subjects(*users),
        }
    )
