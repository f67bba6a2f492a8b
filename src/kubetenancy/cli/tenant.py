"""`kubectl tenancy tenant list` and `tenant get namespaces|quotas|storageclasses|ingressclasses|
priorityclasses TENANT [NAME]`, as MTO's `kubectl tenant` plugin: a user's tenants and what belongs to them,
read with the user's own credentials (no proxy, no extra rights: the operator lets members read their
tenant by name, and the aggregated API lists their Spaces and Accounts).

Reads only; the rows are computed in `tenants_view`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from kubetenancy.cli import tenants_view as view
from kubetenancy.k8s.passthrough import Passthrough

app = typer.Typer(no_args_is_help=True, help="The tenants you belong to and what they hold (as MTO's kubectl tenant).")
KubeconfigOption = Annotated[Path | None, typer.Option("--kubeconfig", help="Kubeconfig (default: $KUBECONFIG).")]
Object = dict[str, Any]
SPACES = "/apis/tenancy.kiosk.sh/v1alpha1/spaces"
ACCOUNTS = "/apis/tenancy.kiosk.sh/v1alpha1/accounts"
CLASS_PATHS: dict[str, tuple[str, str, Callable[[Object], str]]] = {
    "storageclasses": ("/apis/storage.k8s.io/v1/storageclasses", "PROVISIONER", lambda o: o.get("provisioner", "")),
    "ingressclasses": (
        "/apis/networking.k8s.io/v1/ingressclasses",
        "CONTROLLER",
        lambda o: o["spec"].get("controller", ""),
    ),
    "priorityclasses": ("/apis/scheduling.k8s.io/v1/priorityclasses", "VALUE", lambda o: str(o.get("value", ""))),
}


class Resource(StrEnum):
    namespaces = "namespaces"
    quotas = "quotas"
    storageclasses = "storageclasses"
    ingressclasses = "ingressclasses"
    priorityclasses = "priorityclasses"


class Refused(Exception):
    """The API server said no; the message is its own, or says what to do."""


async def _read(api: Passthrough, path: str) -> Object | None:
    """The object at `path`; None when it does not exist or is not the user's to read."""
    code, answer = await api.request("GET", path)
    if code in (403, 404):
        return None
    if code != 200:
        raise Refused(f"Error from server ({answer.get('reason', code)}): {answer.get('message', '')}")
    return answer


async def _tenant(api: Passthrough, name: str) -> Object:
    for path in (f"/apis/{view.TENANT_API}/tenants/{name}", f"/apis/{view.ACCOUNT_API}/accounts/{name}"):
        found = await _read(api, path)
        if found is not None:
            return found
    raise Refused(
        f'error: tenant "{name}" not found, or you are not one of its members (`kubectl tenancy tenant list`)'
    )


def _run(kubeconfig: Path | None, work: Any) -> None:
    async def run() -> str:
        api = Passthrough(kubeconfig)
        try:
            result: str = await work(api)
            return result
        finally:
            await api.close()

    try:
        typer.echo(asyncio.run(run()))
    except Refused as refused:
        typer.echo(str(refused), err=True)
        raise typer.Exit(1) from None


@app.command("list")
def list_tenants(kubeconfig: KubeconfigOption = None) -> None:
    """List the tenants you belong to, your role in each, and how many namespaces they have."""

    async def work(api: Passthrough) -> str:
        code, review = await api.request(
            "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
        )  # fmt: skip
        if code != 201:
            raise Refused(f"Error from server ({review.get('reason')}): {review.get('message')}")
        info = review["status"]["userInfo"]
        user, groups = info["username"], tuple(info.get("groups") or ())
        spaces, accounts = await _read(api, SPACES), await _read(api, ACCOUNTS)
        if spaces is None or accounts is None:
            raise Refused(
                "error: the tenancy.kiosk.sh API is not served here: is kubetenancy's aggregated API running?"
            )
        # Cluster-wide rules come with any namespace's review: they name the tenants the user may get.
        code, rules = await api.request(
            "POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
            body={"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
                  "spec": {"namespace": "default"}},
        )  # fmt: skip
        if code != 201:
            raise Refused(f"Error from server ({rules.get('reason')}): {rules.get('message')}")
        rows = []
        resource_rules = (rules.get("status") or {}).get("resourceRules") or []
        for name in view.tenant_names(spaces.get("items") or [], accounts.get("items") or [], resource_rules):
            resource = await _tenant(api, name)
            model = view.model_of(resource)
            api_name = "Account" if resource.get("kind") == "Account" else "Tenant"
            rows.append((name, api_name, view.role_of(model, user, groups), str(len(view.namespaces_of(resource)))))
        if not rows:
            return f"No tenants found: {user} is no member of any tenant"
        return view.table(("NAME", "KIND", "ROLE", "NAMESPACES"), rows)

    _run(kubeconfig, work)


@app.command("get")
def get(
    resource: Annotated[
        Resource,
        typer.Argument(
            help="namespaces, quotas, storageclasses, ingressclasses or priorityclasses.", case_sensitive=False
        ),
    ],
    tenant: Annotated[str, typer.Argument(help="The tenant (an MTO Tenant or a Kiosk Account).")],
    name: Annotated[str | None, typer.Argument(help="Only this one.")] = None,
    kubeconfig: KubeconfigOption = None,
) -> None:
    """Show a tenant's namespaces, quotas, or the storage, ingress and priority classes it may use."""

    async def work(api: Passthrough) -> str:
        found = await _tenant(api, tenant)
        namespaces = view.namespaces_of(found)
        if resource is Resource.namespaces:
            rows = []
            for ns in (ns for ns in namespaces if name in (None, ns)):
                obj = await _read(api, f"/api/v1/namespaces/{ns}")
                rows.append((ns, ((obj or {}).get("status") or {}).get("phase", "Unknown")))
            return view.table(("NAME", "STATUS"), rows) if rows else f"No namespaces found in tenant {tenant}"
        if resource is Resource.quotas:
            quotas = []
            for ns in namespaces:
                quota = await _read(api, f"/api/v1/namespaces/{ns}/resourcequotas/kubetenancy-tenant-quota")
                if quota is not None:
                    quotas.append(quota)
            quota_rows = [row for row in view.quota_rows(quotas) if name in (None, row[0])]
            return (
                view.table(("QUOTA", "RESOURCE", "USED", "LIMIT"), quota_rows)
                if quota_rows
                else f"No quota limits tenant {tenant}"
            )
        return await _classes(api, resource.value, view.model_of(found), tenant, name)

    _run(kubeconfig, work)


async def _classes(api: Passthrough, resource: str, model: Any, tenant: str, name: str | None) -> str:
    path, column, value = CLASS_PATHS[resource]
    allowed = view.allowed_classes(model, resource)
    if allowed is view.ALL:
        listing = await _read(api, path)
        if listing is None:
            return f"tenant {tenant} may use every {resource[:-2]} of the cluster (you may not list them)"
        allowed = [item["metadata"]["name"] for item in listing.get("items") or []]
    rows = []
    for class_name in allowed:
        if name not in (None, class_name):
            continue
        obj = await _read(api, f"{path}/{class_name}")
        rows.append((class_name, value(obj) if obj else "<not found>"))
    return view.table(("NAME", column), rows) if rows else f"No {resource} found for tenant {tenant}"
