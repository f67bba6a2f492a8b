"""kopf handlers of the template engine: Templates, instances and namespaces of both APIs feed it.

`register_template_handlers` is called once from `operator.handlers.build_registry`. Handlers only
record what an event carries and ask the engine for passes; the engine does the rest.
"""

from __future__ import annotations

from typing import Any

import kopf

from kubetenancy.frontdoors.table import INSTANCES, TEMPLATES
from kubetenancy.k8s import Kube
from kubetenancy.operator.template_engine import TemplateEngine, instance_key


def _deleted(kwargs: dict[str, Any]) -> bool:
    return kwargs["type"] == "DELETED" or bool(kwargs["meta"].get("deletionTimestamp"))


def register_template_handlers(registry: kopf.OperatorRegistry, kube: Kube) -> TemplateEngine:
    engine = TemplateEngine(kube)

    @kopf.on.startup(registry=registry)
    async def start_templates(**_: Any) -> None:
        await engine.start()  # runs after the main startup handler, which installs the CRDs

    @kopf.on.cleanup(registry=registry)
    async def stop_templates(**_: Any) -> None:
        await engine.stop()

    for door in TEMPLATES:
        served = door.served

        @kopf.on.event(served.group, served.version, served.plural, registry=registry, param=served.api_version)
        async def template_changed(**kwargs: Any) -> None:
            body = None if kwargs["type"] == "DELETED" else dict(kwargs["body"])
            users = engine.template_seen(kwargs["param"], kwargs["name"], body)
            await engine.reconcile_all(users)

    for instance_door in INSTANCES:
        served = instance_door.served

        @kopf.on.event(served.group, served.version, served.plural, registry=registry)
        async def instance_changed(**kwargs: Any) -> None:
            body = dict(kwargs["body"])
            if _deleted(kwargs):
                engine.forget(instance_key(body))  # what it created is garbage-collected with it
            else:
                await engine.reconcile(instance_key(body), body)

    @kopf.on.event("v1", "namespaces", registry=registry)
    async def namespace_changed_for_templates(**kwargs: Any) -> None:
        affected = engine.namespace_seen(kwargs["name"], dict(kwargs["labels"]), gone=_deleted(kwargs))
        await engine.reconcile_all(affected)

    return engine
