"""kopf handlers: startup (CRDs, static objects, admission server, webhook configuration, probes) and the
events that drive tenant reconciliation and keep the admission view current.

Handlers are registered on an explicit registry built by `build_registry`, so tests and the CLI get the
same wiring and nothing depends on import side effects. Handlers only fetch, call the engine and report.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import kopf
from prometheus_client import REGISTRY

from kubetenancy.admission.registry import registry
from kubetenancy.api import crd_manifests
from kubetenancy.desired.cluster import static_objects
from kubetenancy.frontdoors.claims import namespace_owner
from kubetenancy.frontdoors.table import (
    INSTANCES,
    KIOSK_ACCOUNT_QUOTA,
    MANDATORY_TEMPLATES,
    POLICIES,
    QUOTAS,
    TENANTS,
)
from kubetenancy.k8s import Kube, ensure_crds
from kubetenancy.model import INITIALIZING, MANAGED_BY, TENANT_LABEL
from kubetenancy.operator.account_quotas import AccountQuotaReporter
from kubetenancy.operator.admission_server import AdmissionServer, confirming
from kubetenancy.operator.capa import capa_links, installed_crds, register_capa_handlers
from kubetenancy.operator.config import OperatorConfig
from kubetenancy.operator.console import register_console_handlers
from kubetenancy.operator.multicluster import register_multicluster_handlers
from kubetenancy.operator.probes import Probes
from kubetenancy.operator.quota_ledger import QuotaLedger
from kubetenancy.operator.showback_metrics import ShowbackCollector, WorkloadIndex, register_showback_handlers
from kubetenancy.operator.templates import register_template_handlers
from kubetenancy.operator.tenancy_index import TenancyIndex
from kubetenancy.operator.tenants import TENANT_KINDS, TenantReconciler
from kubetenancy.operator.webhook_registration import WebhookRegistration
from kubetenancy.operator.webhook_server import client_config, server_context


def _register_tenant_handlers(
    registry: kopf.OperatorRegistry, reconciler: TenantReconciler, usage: AccountQuotaReporter
) -> None:
    for door in TENANTS:

        @kopf.on.event(door.served.group, door.served.version, door.served.plural, registry=registry, param=door)
        async def tenant_changed(**kwargs: Any) -> None:
            if kwargs["type"] == "DELETED":
                reconciler.forget(kwargs["name"])
            else:
                await reconciler.reconcile(kwargs["name"], source=kwargs["param"], body=dict(kwargs["body"]))

    for quota_door in QUOTAS:

        @kopf.on.event(
            quota_door.served.group, quota_door.served.version, quota_door.served.plural, registry=registry,
            param=quota_door,
        )  # fmt: skip
        async def quota_changed(**kwargs: Any) -> None:
            deleted = kwargs["type"] == "DELETED"
            door = kwargs["param"]
            changed = reconciler.quota_seen(door, kwargs["name"], None if deleted else dict(kwargs["body"]))
            await reconciler.registration.follow(reconciler.view)
            for tenant in changed:
                await reconciler.reconcile(tenant)
            if door is usage.door and not deleted:
                await usage.report(kwargs["name"])

    for policy_door in POLICIES:

        @kopf.on.event(
            policy_door.served.group, policy_door.served.version, policy_door.served.plural, registry=registry
        )
        async def config_changed(**kwargs: Any) -> None:
            await reconciler.refresh_policy()
            for source, tenant in await reconciler.all_tenants():
                await reconciler.reconcile(tenant, source=source)

    @kopf.on.event("v1", "namespaces", registry=registry)
    async def namespace_changed(**kwargs: Any) -> None:
        deleted = kwargs["type"] == "DELETED" or bool(kwargs["meta"].get("deletionTimestamp"))
        name, labels = kwargs["name"], dict(kwargs["labels"])
        tenants = reconciler.index.namespace_seen(name, labels, deleted=deleted)
        if reconciler.index.namespace_initializing(name, not deleted and INITIALIZING in kwargs["annotations"]):
            tenants.append(namespace_owner(labels) or "")
        for tenant in dict.fromkeys(t for t in tenants if t):
            await reconciler.reconcile(tenant)

    managed: dict[str, Any] = {**MANAGED_BY, TENANT_LABEL: kopf.PRESENT}
    for api_version, kind in TENANT_KINDS:
        group, _, version = api_version.rpartition("/")

        @kopf.on.event(group, version, kind, labels=managed, registry=registry)
        async def managed_object_changed(**kwargs: Any) -> None:
            tenant, body = kwargs["labels"][TENANT_LABEL], kwargs["body"]
            if (body.get("apiVersion"), body.get("kind")) == MANDATORY_TEMPLATES:
                deployed = kwargs["type"] != "DELETED" and (body.get("status") or {}).get("status") == "Deployed"
                if reconciler.index.template_instance_seen(kwargs["namespace"], kwargs["name"], deployed):
                    await reconciler.reconcile(tenant)
            if kwargs["type"] == "DELETED":  # drift: someone removed an object the tenant needs
                await reconciler.reconcile(tenant, repair=True)
            elif body.get("kind") == "ResourceQuota":
                await usage.namespace_used(tenant, kwargs["namespace"], body.get("status") or {})


def build_registry(config: OperatorConfig, probes: Probes) -> kopf.OperatorRegistry:
    """The composition root: every part built once and wired here, the webhook registry included."""
    kopf_registry = kopf.OperatorRegistry()
    kube = Kube(config.kubeconfig)
    index = TenancyIndex()
    ledger = QuotaLedger(index.view)
    webhook_specs = registry(config.config_namespace, ledger)
    specs = [r.spec for r in webhook_specs]
    registration = WebhookRegistration(kube, specs, lambda path: client_config(config, path), installed_crds)
    reconciler = TenantReconciler(kube, index, registration, config.config_namespace, config.bypassed_groups)
    confirm = confirming(reconciler.confirm, capa_links(kube, index.aws))
    admission = AdmissionServer(webhook_specs, index.view, confirm)
    workloads = WorkloadIndex()
    collector = ShowbackCollector(workloads, index.view, ledger)

    @kopf.on.login(registry=kopf_registry)
    def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
        # An explicit registry has none of kopf's default login handlers; these two need no client library.
        info: kopf.ConnectionInfo | None = kopf.login_with_service_account(**kwargs) or kopf.login_with_kubeconfig(
            **kwargs
        )
        return info

    async def stop_serving() -> None:
        """Close the ports and withdraw the metrics: after a clean stop, a failed startup (kopf retries
        it) and before a restarted core (`run.py`) serves them again."""
        await admission.stop()
        await probes.stop()
        with contextlib.suppress(KeyError):  # not registered: the startup failed before
            REGISTRY.unregister(collector)

    @kopf.on.startup(registry=kopf_registry)
    async def start(**kwargs: Any) -> None:
        settings: kopf.OperatorSettings = kwargs["settings"]
        logger: logging.Logger = kwargs["logger"]
        settings.posting.level = logging.WARNING
        try:
            REGISTRY.register(collector)
            await probes.start(config.probe_addr, config.probe_port)
            await ensure_crds(kube, crd_manifests())
            for obj in static_objects([(d.served.group, d.served.plural) for d in INSTANCES if d.served.namespaced]):
                await kube.apply_if_changed(obj)
            await reconciler.start()
            await ledger.load(kube)
            await admission.start(config.webhook_addr, config.webhook_port, server_context(config))
            await registration.follow(index.view)
        except BaseException:
            await stop_serving()
            raise
        callers = (
            f"callers with a client certificate of {config.webhook_client_ca}"
            if config.webhook_client_ca
            else ("any caller (no --webhook-client-ca: keep all but the API server away from the port)")
        )
        logger.info("serving %d webhooks to %s; CRDs established", len(webhook_specs), callers)
        probes.mark_ready()

    @kopf.on.cleanup(registry=kopf_registry)
    async def stop(**_: Any) -> None:
        await stop_serving()
        await kube.close()

    _register_tenant_handlers(kopf_registry, reconciler, AccountQuotaReporter(kube, index.view, KIOSK_ACCOUNT_QUOTA))
    register_template_handlers(kopf_registry, kube)
    register_multicluster_handlers(kopf_registry, kube, config)
    register_capa_handlers(kopf_registry, kube, index.aws, registration)
    register_console_handlers(kopf_registry, kube, config)
    register_showback_handlers(kopf_registry, workloads)
    return kopf_registry
