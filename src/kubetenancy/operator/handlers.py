"""kopf handlers: startup (CRDs, static objects, admission server, webhook configuration, probes) and the
events that drive tenant reconciliation and keep the admission view current.

Handlers are registered on an explicit registry built by `build_registry`, so tests and the CLI get the
same wiring and nothing depends on import side effects. Handlers only fetch, call the engine and report.
"""

from __future__ import annotations

import logging
from typing import Any

import kopf

from kubetenancy.admission import Decision, Request
from kubetenancy.admission.registry import (
    CAPA_CLUSTERS,
    CAPA_IDENTITIES,
    QUOTA_RESERVE,
    QUOTA_SETTLE,
    TENANTS,
    registry,
)
from kubetenancy.admission.view import TenancyView
from kubetenancy.api import crd_manifests
from kubetenancy.desired import webhooks
from kubetenancy.desired.cluster import static_objects
from kubetenancy.frontdoors.claims import namespace_owner
from kubetenancy.k8s import Kube, applier, ensure_crds
from kubetenancy.model import INITIALIZING, MANAGED_BY, TENANT_LABEL
from kubetenancy.operator.account_quotas import AccountQuotaReporter
from kubetenancy.operator.admission_server import AdmissionServer, Handler, rules_handler
from kubetenancy.operator.capa import register_capa_handlers
from kubetenancy.operator.capa_reads import confirming, confirming_deletes, installed_crds
from kubetenancy.operator.config import OperatorConfig
from kubetenancy.operator.multicluster import register_multicluster_handlers
from kubetenancy.operator.probes import Probes
from kubetenancy.operator.quota_ledger import QuotaLedger
from kubetenancy.operator.templates import register_template_handlers
from kubetenancy.operator.tenant_sources import SOURCES
from kubetenancy.operator.tenants import QUOTA_API, TenantReconciler
from kubetenancy.operator.webhook_server import client_config, server_context

GROUP = "tenantoperator.stakater.com"


def _register_tenant_handlers(
    registry: kopf.OperatorRegistry, reconciler: TenantReconciler, usage: AccountQuotaReporter
) -> None:
    for source in SOURCES:
        group, _, version = source.api_version.rpartition("/")

        @kopf.on.event(group, version, source.kind, registry=registry, param=source)
        async def tenant_changed(**kwargs: Any) -> None:
            if kwargs["type"] == "DELETED":
                reconciler.forget(kwargs["name"])
            else:
                await reconciler.reconcile(kwargs["name"], source=kwargs["param"], body=dict(kwargs["body"]))

    @kopf.on.event(GROUP, "v1beta1", "quotas", registry=registry)
    async def quota_changed(**kwargs: Any) -> None:
        deleted = kwargs["type"] == "DELETED"
        if reconciler.quota_seen(kwargs["name"], None if deleted else dict(kwargs["body"].get("spec") or {})):
            for tenant in reconciler.view.tenants_using_quota(kwargs["name"]):
                await reconciler.reconcile(tenant)

    @kopf.on.event("config.kiosk.sh", "v1alpha1", "accountquotas", registry=registry)
    async def account_quota_changed(**kwargs: Any) -> None:
        deleted = kwargs["type"] == "DELETED"
        spec = None if deleted else dict(kwargs["body"].get("spec") or {})
        for account in reconciler.account_quota_seen(kwargs["name"], spec):
            await reconciler.reconcile(account)
        if not deleted:
            await usage.report(kwargs["name"])

    @kopf.on.event(GROUP, "v1beta1", "integrationconfigs", registry=registry)
    async def config_changed(**kwargs: Any) -> None:
        await reconciler.refresh_policy()
        for source, tenant in await reconciler.all_tenants():
            await reconciler.reconcile(tenant, source=source)

    @kopf.on.event("v1", "namespaces", registry=registry)
    async def namespace_changed(**kwargs: Any) -> None:
        deleted = kwargs["type"] == "DELETED" or bool(kwargs["meta"].get("deletionTimestamp"))
        name, labels = kwargs["name"], dict(kwargs["labels"])
        tenants = reconciler.namespace_seen(name, labels, deleted=deleted)
        if reconciler.namespace_initializing(name, not deleted and INITIALIZING in kwargs["annotations"]):
            tenants.append(namespace_owner(labels) or "")
        for tenant in dict.fromkeys(t for t in tenants if t):
            await reconciler.reconcile(tenant)

    managed: dict[str, Any] = {**MANAGED_BY, TENANT_LABEL: kopf.PRESENT}
    for api_version, kind in applier.PRUNABLE:
        group, _, version = api_version.rpartition("/")

        @kopf.on.event(group, version, kind, labels=managed, registry=registry)
        async def managed_object_changed(**kwargs: Any) -> None:
            tenant, body = kwargs["labels"][TENANT_LABEL], kwargs["body"]
            if body.get("kind") == "TemplateInstance":
                deployed = kwargs["type"] != "DELETED" and (body.get("status") or {}).get("status") == "Deployed"
                if reconciler.template_instance_seen(kwargs["namespace"], kwargs["name"], deployed):
                    await reconciler.reconcile(tenant)
            if kwargs["type"] == "DELETED":  # drift: someone removed an object the tenant needs
                await reconciler.reconcile(tenant, repair=True)
            elif body.get("kind") == "ResourceQuota":
                await usage.namespace_used(tenant, kwargs["namespace"], body.get("status") or {})


def build_registry(config: OperatorConfig, probes: Probes) -> kopf.OperatorRegistry:
    kopf_registry = kopf.OperatorRegistry()
    kube = Kube(config.kubeconfig)
    view = TenancyView()
    reconciler = TenantReconciler(kube, view, config.config_namespace, config.bypassed_groups)
    ledger = QuotaLedger(view)
    webhook_specs = registry(config.config_namespace)
    handlers: dict[str, tuple[str, Handler]] = {
        r.spec.path: (r.spec.name, rules_handler(r, view)) for r in webhook_specs
    }
    handlers[QUOTA_RESERVE] = (handlers[QUOTA_RESERVE][0], ledger.reserve)
    handlers[QUOTA_SETTLE] = (handlers[QUOTA_SETTLE][0], ledger.settle)
    name, check_tenant = handlers[TENANTS]

    async def tenant_webhook(request: Request) -> Decision:
        # A Quota created a moment ago may not have reached the view yet: confirm before refusing.
        quota = (request.obj.get("spec") or {}).get("quota")
        if quota and quota not in view.quotas:
            found = await kube.get(QUOTA_API, "Quota", quota)
            if found is not None:
                reconciler.quota_seen(quota, found.get("spec") or {})
        return await check_tenant(request)

    handlers[TENANTS] = (name, tenant_webhook)
    capa_name, check_capa = handlers[CAPA_CLUSTERS]
    handlers[CAPA_CLUSTERS] = (capa_name, confirming(kube, view.aws, check_capa))
    identities_name, check_identities = handlers[CAPA_IDENTITIES]
    handlers[CAPA_IDENTITIES] = (identities_name, confirming_deletes(kube, view.aws, check_identities))
    admission = AdmissionServer(handlers)

    async def apply_webhooks() -> None:
        """The webhook configurations, with the webhooks of other projects' kinds only where their CRDs exist."""
        specs = webhooks.installable([r.spec for r in webhook_specs], await installed_crds(kube))
        for configuration in webhooks.configurations(specs, lambda path: client_config(config, path)):
            await kube.apply_if_changed(configuration)

    @kopf.on.login(registry=kopf_registry)
    def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
        # An explicit registry has none of kopf's default login handlers; these two need no client library.
        info: kopf.ConnectionInfo | None = kopf.login_with_service_account(**kwargs) or kopf.login_with_kubeconfig(
            **kwargs
        )
        return info

    @kopf.on.startup(registry=kopf_registry)
    async def start(**kwargs: Any) -> None:
        settings: kopf.OperatorSettings = kwargs["settings"]
        logger: logging.Logger = kwargs["logger"]
        settings.posting.level = logging.WARNING
        await probes.start(config.probe_addr, config.probe_port)
        await ensure_crds(kube, crd_manifests())
        for obj in static_objects():
            await kube.apply_if_changed(obj)
        await reconciler.start()
        await ledger.load(kube)
        await admission.start(config.webhook_addr, config.webhook_port, server_context(config))
        await apply_webhooks()
        logger.info("serving %d webhooks; CRDs established", len(webhook_specs))
        probes.mark_ready()

    @kopf.on.cleanup(registry=kopf_registry)
    async def stop(**_: Any) -> None:
        await admission.stop()
        await probes.stop()
        await kube.close()

    _register_tenant_handlers(kopf_registry, reconciler, AccountQuotaReporter(kube, view))
    register_template_handlers(kopf_registry, kube)
    register_multicluster_handlers(kopf_registry, kube, config)
    register_capa_handlers(kopf_registry, kube, view.aws, apply_webhooks)
    return kopf_registry
