"""The console's pages: dashboard, tenants, namespaces, quotas, template instances, Kiosk, RoleRequests.

Each handler reads what it shows as the logged-in user (`data.py`), shapes it with the pure functions of
`summary.py` and `admin_rbac.py`, and renders a template. The two forms (a namespace in a tenant, a
template instance in a namespace) send the user's request to the API server as it is: admission
webhooks and RBAC decide, and their message is what the page shows.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from kubetenancy.console import admin_rbac, data
from kubetenancy.console.data import UserApi
from kubetenancy.console.render import API, render
from kubetenancy.console.security import session_of
from kubetenancy.console.summary import InstanceRow, instance_rows, members, quota_lines, tenant_summaries
from kubetenancy.frontdoors.tenantoperator import MTO_TENANT_LABEL

routes = web.RouteTableDef()
TEMPLATE_APIS = {"mto": "tenantoperator.stakater.com/v1alpha1", "kiosk": "config.kiosk.sh/v1alpha1"}


def _user(request: web.Request) -> UserApi:
    return UserApi(request.app[API], session_of(request).token)


def _instances(snapshot: data.Snapshot) -> list[InstanceRow]:
    return sorted(
        (row for api, items in snapshot.instances.items() for row in instance_rows(api, items)),
        key=lambda r: (r.namespace, r.name),
    )


@routes.get("/healthz")
async def healthz(_: web.Request) -> web.Response:
    return web.Response(text="ok")


@routes.get("/")
async def dashboard(request: web.Request) -> web.Response:
    snapshot = await data.snapshot(_user(request))
    tenants = tenant_summaries(
        snapshot.tenants.items, snapshot.accounts.items, snapshot.namespaces.items, snapshot.quotas
    )
    instances = _instances(snapshot)
    return render(
        request,
        "dashboard.html",
        tenants=tenants,
        namespaces=snapshot.namespace_names,
        failing_tenants=[t for t in tenants if t.failing],
        failing_instances=[i for i in instances if i.failing],
        denials=snapshot.denials,
    )


@routes.get("/tenants")
async def tenants_page(request: web.Request) -> web.Response:
    snapshot = await data.snapshot(_user(request), with_instances=False)
    tenants = tenant_summaries(
        snapshot.tenants.items, snapshot.accounts.items, snapshot.namespaces.items, snapshot.quotas
    )
    return render(request, "tenants.html", tenants=tenants, denied=snapshot.tenants.denied)


@routes.get("/tenants/{name}")
async def tenant_detail(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    snapshot = await data.snapshot(_user(request))
    found = [
        t
        for t in tenant_summaries(
            snapshot.tenants.items, snapshot.accounts.items, snapshot.namespaces.items, snapshot.quotas
        )
        if t.name == name
    ]
    if not found:
        denied = snapshot.tenants.denied or f'tenants.tenantoperator.stakater.com "{name}" not found'
        return render(request, "error.html", title=f"Tenant {name}", message=denied, status=404)
    tenant = found[0]
    per_namespace = {
        ns: quota_lines(q for q in snapshot.quotas if q["metadata"]["namespace"] == ns) for ns in tenant.namespaces
    }
    instances = [i for i in _instances(snapshot) if i.namespace in tenant.namespaces]
    return render(
        request,
        "tenant.html",
        tenant=tenant,
        members=members(tenant.body) if tenant.body else {},
        per_namespace=per_namespace,
        instances=instances,
    )


async def _namespaces_page(request: web.Request, *, error: str | None = None, status: int = 200) -> web.Response:
    snapshot = await data.snapshot(_user(request), with_instances=False)
    tenants = tenant_summaries(
        snapshot.tenants.items, snapshot.accounts.items, snapshot.namespaces.items, snapshot.quotas
    )
    owner_of = {ns: t.name for t in tenants for ns in t.namespaces}
    return render(
        request,
        "namespaces.html",
        namespaces=[(ns, owner_of.get(ns, "")) for ns in snapshot.namespace_names],
        tenants=tenants,
        from_spaces=snapshot.namespaces_from_spaces,
        denied=snapshot.namespaces.denied,
        created=request.query.get("created"),
        error=error,
        status=status,
    )


@routes.get("/namespaces")
async def namespaces_page(request: web.Request) -> web.Response:
    return await _namespaces_page(request)


@routes.post("/namespaces")
async def create_namespace(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    name, tenant, kind = (str(form.get(k) or "").strip() for k in ("name", "tenant", "kind"))
    user = _user(request)
    if kind == "Account":
        space = {
            "apiVersion": "tenancy.kiosk.sh/v1alpha1",
            "kind": "Space",
            "metadata": {"name": name},
            "spec": {"account": tenant},
        }
        refused = await user.create(data.SPACES, space)
    else:
        namespace = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": {MTO_TENANT_LABEL: tenant}},
        }
        refused = await user.create(data.NAMESPACES, namespace)
    if refused is not None:
        return await _namespaces_page(request, error=refused, status=422)
    raise web.HTTPSeeOther(f"/namespaces?created={name}")


@routes.get("/quotas")
async def quotas_page(request: web.Request) -> web.Response:
    user = _user(request)
    snapshot, quotas = await asyncio.gather(data.snapshot(user, with_instances=False), user.list(data.QUOTAS))
    per_namespace = {
        ns: quota_lines(q for q in snapshot.quotas if q["metadata"]["namespace"] == ns)
        for ns in snapshot.namespace_names
    }
    return render(request, "quotas.html", quotas=quotas, per_namespace=per_namespace)


async def _instances_page(request: web.Request, *, error: str | None = None, status: int = 200) -> web.Response:
    user = _user(request)
    snapshot = await data.snapshot(user)
    templates = await asyncio.gather(*(user.list(f"/apis/{api}/templates") for api in TEMPLATE_APIS.values()))
    return render(
        request,
        "templateinstances.html",
        instances=_instances(snapshot),
        namespaces=snapshot.namespace_names,
        templates=sorted({t["metadata"]["name"] for listing in templates for t in listing.items}),
        created=request.query.get("created"),
        error=error,
        status=status,
    )


@routes.get("/templateinstances")
async def instances_page(request: web.Request) -> web.Response:
    return await _instances_page(request)


@routes.post("/templateinstances")
async def apply_template(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    namespace, template, api = (str(form.get(k) or "").strip() for k in ("namespace", "template", "api"))
    name = str(form.get("name") or "").strip() or template
    api_version = TEMPLATE_APIS.get(api, TEMPLATE_APIS["mto"])
    instance = {
        "apiVersion": api_version,
        "kind": "TemplateInstance",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"template": template, "sync": True},
    }
    refused = await _user(request).create(
        data.namespaced(f"/apis/{api_version}", namespace, "templateinstances"), instance
    )
    if refused is not None:
        return await _instances_page(request, error=refused, status=422)
    raise web.HTTPSeeOther(f"/templateinstances?created={namespace}/{name}")


@routes.get("/kiosk")
async def kiosk_page(request: web.Request) -> web.Response:
    user = _user(request)
    accounts, spaces = await asyncio.gather(user.list(data.ACCOUNTS), user.list(data.SPACES))
    return render(request, "kiosk.html", accounts=accounts, spaces=spaces)


@routes.get("/rolerequests")
async def role_requests_page(request: web.Request) -> web.Response:
    user = _user(request)
    requests = await user.list(data.ROLE_REQUESTS)
    references = sorted(
        {
            (ref.get("namespace", ""), ref.get("name", ""))
            for rr in requests.items
            for ref in (rr.get("spec") or {}).get("roleRefs") or []
            if ref.get("kind") == "ConfigMap"
        }
    )
    found = await asyncio.gather(*(user.get(f"/api/v1/namespaces/{ns}/configmaps/{name}") for ns, name in references))
    holders = {ref: obj for ref, (obj, _) in zip(references, found, strict=True) if obj is not None}
    denied = sorted({message for _, message in found if message})
    return render(
        request,
        "rolerequests.html",
        requests=requests,
        headers=admin_rbac.HEADERS,
        rows=admin_rbac.rows(requests.items, holders),
        denied_roles=denied,
    )
