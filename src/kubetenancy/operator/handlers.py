"""kopf handlers: startup (CRDs, static objects, webhook server, probes), tenants, and admission.

Handlers are registered on an explicit registry built by `build_registry`, so tests and the CLI get the
same wiring and nothing depends on import side effects. Handlers only fetch, call the engine and report.
"""

from __future__ import annotations

import logging
from typing import Any

import kopf

from kubetenancy.admission import Request
from kubetenancy.admission.typed_spec import validate_spec
from kubetenancy.api import SERVED_CRDS, ServedKind, crd_manifests
from kubetenancy.desired.cluster import static_objects
from kubetenancy.frontdoors.tenantoperator import MTO_TENANT_LABEL
from kubetenancy.k8s import Kube, applier, ensure_crds
from kubetenancy.model import MANAGED_BY, TENANT_LABEL
from kubetenancy.operator.config import WEBHOOK_CONFIGURATION, OperatorConfig
from kubetenancy.operator.probes import ADMISSION_REVIEWS, Probes
from kubetenancy.operator.tenants import TenantReconciler
from kubetenancy.operator.webhook_server import webhook_server

GROUP = "tenantoperator.stakater.com"


def admission_request(kind: ServedKind, body: kopf.Body, userinfo: kopf.UserInfo, operation: str) -> Request:
    return Request(
        operation=operation,
        kind=kind.kind,
        group=kind.group,
        name=body.get("metadata", {}).get("name", ""),
        namespace=body.get("metadata", {}).get("namespace"),
        user=userinfo.get("username", ""),
        groups=tuple(userinfo.get("groups", ())),
        obj=dict(body),
    )


def _register_spec_validation(registry: kopf.OperatorRegistry, kind: ServedKind) -> None:
    webhook_id = f"validate-{kind.plural}.{kind.version}.{kind.group}"

    async def validate(**kwargs: Any) -> None:
        request = admission_request(kind, kwargs["body"], kwargs["userinfo"], kwargs["operation"])
        decision = validate_spec(request, kind)
        ADMISSION_REVIEWS.labels(webhook_id, str(decision.allowed).lower()).inc()
        if not decision.allowed:
            raise kopf.AdmissionError(decision.message, code=422)

    kopf.on.validate(
        kind.group,
        kind.version,
        kind.plural,
        id=webhook_id,
        operations=["CREATE", "UPDATE"],
        registry=registry,
    )(validate)


def _register_tenant_handlers(registry: kopf.OperatorRegistry, reconciler: TenantReconciler) -> None:
    @kopf.on.event(GROUP, "v1beta3", "tenants", registry=registry)
    async def tenant_changed(**kwargs: Any) -> None:
        if kwargs["type"] != "DELETED":
            await reconciler.reconcile(kwargs["name"])

    @kopf.on.event(GROUP, "v1beta1", "quotas", registry=registry)
    async def quota_changed(**kwargs: Any) -> None:
        for tenant in await reconciler.tenants_using_quota(kwargs["name"]):
            await reconciler.reconcile(tenant)

    @kopf.on.event(GROUP, "v1beta1", "integrationconfigs", registry=registry)
    async def config_changed(**kwargs: Any) -> None:
        for tenant in await reconciler.all_tenants():
            await reconciler.reconcile(tenant)

    for label in (TENANT_LABEL, MTO_TENANT_LABEL):

        @kopf.on.event("v1", "namespaces", labels={label: kopf.PRESENT}, registry=registry)
        async def namespace_changed(label: str = label, **kwargs: Any) -> None:
            if kwargs["type"] in ("ADDED", "MODIFIED"):
                await reconciler.reconcile(kwargs["labels"][label])

    managed: dict[str, Any] = {**MANAGED_BY, TENANT_LABEL: kopf.PRESENT}
    for api_version, kind in applier.PRUNABLE:
        group, _, version = api_version.rpartition("/")

        @kopf.on.event(group, version, kind, labels=managed, registry=registry)
        async def managed_object_changed(**kwargs: Any) -> None:
            if kwargs["type"] == "DELETED":  # drift: someone removed an object the tenant needs
                await reconciler.reconcile(kwargs["labels"][TENANT_LABEL], repair=True)


def build_registry(config: OperatorConfig, probes: Probes) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()
    kube = Kube(config.kubeconfig)
    reconciler = TenantReconciler(kube, config.config_namespace, config.bypassed_groups)

    @kopf.on.login(registry=registry)
    def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
        # An explicit registry has none of kopf's default login handlers; these two need no client library.
        info: kopf.ConnectionInfo | None = kopf.login_with_service_account(
            **kwargs
        ) or kopf.login_with_kubeconfig(**kwargs)
        return info

    @kopf.on.startup(registry=registry)
    async def start(**kwargs: Any) -> None:
        settings: kopf.OperatorSettings = kwargs["settings"]
        logger: logging.Logger = kwargs["logger"]
        settings.posting.level = logging.WARNING
        settings.admission.server = webhook_server(config)
        settings.admission.managed = WEBHOOK_CONFIGURATION
        await probes.start(config.probe_addr, config.probe_port)
        await ensure_crds(kube, crd_manifests())
        for obj in static_objects():
            await kube.apply(obj)
        logger.info("CRDs established: %s", ", ".join(m["metadata"]["name"] for m in crd_manifests()))
        probes.mark_ready()

    @kopf.on.cleanup(registry=registry)
    async def stop(**_: Any) -> None:
        await probes.stop()
        await kube.close()

    for versions in SERVED_CRDS:
        for kind in versions:
            _register_spec_validation(registry, kind)
    _register_tenant_handlers(registry, reconciler)
    return registry
