"""The showback API, `showback.kubetenancy.dev/v1alpha1` `TenantCost`: what each tenant costs, read through
the API server with the caller's own credentials (`kubectl get tenantcosts`, `kubectl tenancy showback`).

As metrics-server's `metrics.k8s.io`, it is an aggregated API: the API server authenticates the caller and
authorizes `list`/`get tenantcosts` (everyone may, `desired/cluster.py`); this server narrows the answer.
A tenant's member reads that tenant's cost and its namespaces'; whoever may list all namespaces reads every
tenant's, plus `(unattributed)` (namespaces of no tenant) and `(idle)` (capacity nobody was allocated), so
the items add up to the cluster's total. Another tenant's cost is Forbidden, as RBAC words it.

Figures come from Prometheus (`showback/source.py`, the queries in `showback/queries.py`), priced with the
IntegrationConfig's `showbackOpts.custom` (read with this server's identity at each request). Query
parameters: `window` (default 7d) and `resolution` (default 1m), Prometheus durations.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from aiohttp import web

from kubetenancy.apiserver import objects
from kubetenancy.apiserver.access import AccessReviews
from kubetenancy.apiserver.membership import Membership
from kubetenancy.apiserver.objects import Column, Served
from kubetenancy.apiserver.server import FrontProxy
from kubetenancy.apiserver.views import ApiStatusError
from kubetenancy.apiserver.visibility import Caller, sees_tenant
from kubetenancy.desired.apiservice import SHOWBACK_GROUP
from kubetenancy.frontdoors.components import price_list
from kubetenancy.frontdoors.table import MTO_POLICY
from kubetenancy.k8s import Kube
from kubetenancy.showback.allocation import Cost, Line, ResourceHours, Showback, narrowed
from kubetenancy.showback.queries import Queries, seconds
from kubetenancy.showback.source import PrometheusError, read

GROUP = SHOWBACK_GROUP
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
BASE = f"/apis/{API_VERSION}"
TENANT_COSTS = Served(
    plural="tenantcosts",
    singular="tenantcost",
    kind="TenantCost",
    verbs=("get", "list"),
    columns=(
        objects.NAME_COLUMN,
        Column("Window", "string", "The window the cost is over"),
        *(Column(r, "string", f"Cost of {r.lower()}") for r in ("CPU", "Memory", "GPU", "Storage")),
        Column("Total", "string", "Cost of everything"),
    ),
)
Object = dict[str, Any]


def _status(code: int, reason: str, message: str, name: str = "") -> Object:
    return objects.status(code, reason, message, name=name, kind=TENANT_COSTS.plural, group=GROUP)


def _hours(hours: ResourceHours) -> Object:
    return {
        "cpuCoreHours": hours.cpu_core_hours,
        "ramGiBHours": hours.ram_gib_hours,
        "gpuHours": hours.gpu_hours,
        "storageGiBHours": hours.storage_gib_hours,
    }


def _cost(cost: Cost) -> Object:
    return {**asdict(cost), "total": cost.total}


def tenant_cost(line: Line, namespaces: list[Line], window: Object) -> Object:
    return {
        "apiVersion": API_VERSION,
        "kind": TENANT_COSTS.kind,
        "metadata": {"name": line.name},
        "window": window,
        "usage": _hours(line.hours),
        "cost": _cost(line.cost),
        "namespaces": [{"name": n.name, "usage": _hours(n.hours), "cost": _cost(n.cost)} for n in namespaces],
    }


def items(report: Showback, window: Object, *, everything: bool) -> list[Object]:
    """One TenantCost per tenant (and, for `everything`, the unattributed and idle remainders)."""
    found = [tenant_cost(t, [n for n in report.namespaces if n.tenant == t.name], window) for t in report.tenants]
    if everything:
        found.append(tenant_cost(report.unattributed, [n for n in report.namespaces if not n.tenant], window))
        found.append(tenant_cost(report.idle, [], window))
    return found


def _cells(obj: Object) -> list[Any]:
    cost = obj["cost"]
    money = [f"{cost[k]:.4f}" for k in ("cpu", "ram", "gpu", "storage", "total")]
    return [obj["metadata"]["name"], obj["window"]["duration"], *money]


def _iso(at: float) -> str:
    return datetime.datetime.fromtimestamp(at, datetime.UTC).isoformat().replace("+00:00", "Z")


class TenantCosts:
    def __init__(
        self,
        front_proxy: FrontProxy,
        kube: Kube,
        access: AccessReviews,
        membership: Membership,
        config_namespace: str,
        prometheus_url: str | None,
    ) -> None:
        self.front_proxy, self.kube, self.access, self.membership = front_proxy, kube, access, membership
        self.config_namespace, self.prometheus_url = config_namespace, prometheus_url

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get(f"/apis/{GROUP}", self._discovery(self._group)),
            web.get(BASE, self._discovery(self._resources)),
            web.get(f"{BASE}/{TENANT_COSTS.plural}", self._list),
            web.get(BASE + "/" + TENANT_COSTS.plural + "/{name}", self._get),
        ]

    def _group(self) -> Object:
        version = {"groupVersion": API_VERSION, "version": VERSION}
        return {
            "kind": "APIGroup",
            "apiVersion": "v1",
            "name": GROUP,
            "versions": [version],
            "preferredVersion": version,
        }

    def _resources(self) -> Object:
        resource = {"name": TENANT_COSTS.plural, "singularName": TENANT_COSTS.singular, "namespaced": False}
        resource |= {"kind": TENANT_COSTS.kind, "verbs": list(TENANT_COSTS.verbs)}
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": API_VERSION, "resources": [resource]}

    def _discovery(self, document: Any) -> Any:
        async def serve(request: web.Request) -> web.Response:
            try:
                self.front_proxy.caller(request)
            except ApiStatusError as error:
                return web.json_response(error.status, status=error.status["code"])
            return web.json_response(document())

        return serve

    async def _report(self, caller: Caller, params: Mapping[str, str]) -> tuple[list[Object], Object, bool]:
        """Every item the caller may read, the window they are over, and whether the caller sees all."""
        if self.prometheus_url is None:
            message = "showback has no Prometheus: start the aggregated API server with --prometheus-url"
            raise ApiStatusError(_status(503, "ServiceUnavailable", message))
        window, resolution = params.get("window", "7d"), params.get("resolution", "1m")
        try:
            if seconds(resolution) > seconds(window):
                raise ValueError(f"resolution {resolution} is longer than the window {window}")
        except ValueError as error:
            raise ApiStatusError(_status(400, "BadRequest", str(error))) from None
        served = MTO_POLICY.served
        config = await self.kube.get(served.api_version, served.kind, MTO_POLICY.object_name, self.config_namespace)
        end = time.time()
        try:
            report = await read(
                self.prometheus_url, Queries(window, resolution), price_list((config or {}).get("spec")), end
            )
        except PrometheusError as error:
            raise ApiStatusError(_status(503, "ServiceUnavailable", str(error))) from None
        span = {"start": _iso(end - seconds(window)), "end": _iso(end), "duration": window, "resolution": resolution}
        everything = await self.access.allowed(caller, "list", "", "namespaces")
        tenants = self.membership.tenants
        mine = {name for name, tenant in tenants.items() if everything or sees_tenant(caller, tenant)}
        shown = report if everything else narrowed(report, mine)
        return items(shown, span, everything=everything), span, everything

    async def _list(self, request: web.Request) -> web.Response:
        try:
            caller = self.front_proxy.caller(request)
            found, _, _ = await self._report(caller, request.query)
        except ApiStatusError as error:
            return web.json_response(error.status, status=error.status["code"])
        return self._shown(request, found, as_list=True)

    async def _get(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        try:
            caller = self.front_proxy.caller(request)
            found, span, everything = await self._report(caller, request.query)
            tenant = self.membership.tenants.get(name)
            if not everything and not sees_tenant(caller, tenant):  # unknown names too: existence is not told
                why = f"{caller.user} is not a member of tenant {name}, so cannot read its cost"
                message = f'{TENANT_COSTS.plural}.{GROUP} "{name}" is forbidden: {why}'
                raise ApiStatusError(_status(403, "Forbidden", message, name))
            match = [obj for obj in found if obj["metadata"]["name"] == name]
            if not match:
                # A tenant that allocated nothing in the window costs nothing; an unknown name is not found.
                if tenant is None:
                    raise ApiStatusError(
                        _status(404, "NotFound", f'{TENANT_COSTS.plural}.{GROUP} "{name}" not found', name)
                    )
                match = [tenant_cost(Line(name, name, ResourceHours(), Cost()), [], span)]
        except ApiStatusError as error:
            return web.json_response(error.status, status=error.status["code"])
        return self._shown(request, match)

    def _shown(self, request: web.Request, found: list[Object], *, as_list: bool = False) -> web.Response:
        if "as=Table" in request.headers.get("Accept", ""):
            table = objects.table(TENANT_COSTS, found, "", request.query.get("includeObject", "Metadata"), _cells)
            return web.json_response(table)
        if not as_list:
            return web.json_response(found[0])
        listing = {"apiVersion": API_VERSION, "kind": "TenantCostList", "metadata": {}, "items": found}
        return web.json_response(listing)
