"""kopf handlers: startup (CRDs, webhook server, probes) and admission for the served kinds.

Handlers are registered on an explicit registry built by `build_registry`, so tests and the CLI get the
same wiring and nothing depends on import side effects.
"""

from __future__ import annotations

import logging
from typing import Any

import kopf

from kubetenancy.admission import Request
from kubetenancy.admission.typed_spec import validate_spec
from kubetenancy.api import SERVED_CRDS, ServedKind, crd_manifests
from kubetenancy.k8s import Kube, ensure_crds
from kubetenancy.operator.config import WEBHOOK_CONFIGURATION, OperatorConfig
from kubetenancy.operator.probes import ADMISSION_REVIEWS, Probes
from kubetenancy.operator.webhook_server import webhook_server


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


def build_registry(config: OperatorConfig, probes: Probes) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()

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
        async with Kube(config.kubeconfig) as kube:
            await ensure_crds(kube, crd_manifests())
        logger.info("CRDs established: %s", ", ".join(m["metadata"]["name"] for m in crd_manifests()))
        probes.mark_ready()

    @kopf.on.cleanup(registry=registry)
    async def stop(**_: Any) -> None:
        await probes.stop()

    for versions in SERVED_CRDS:
        for kind in versions:
            _register_spec_validation(registry, kind)
    return registry
