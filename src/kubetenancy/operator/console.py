"""Deploying the console when the IntegrationConfig enables it (and removing it when it does not).

One handler: on every event of the IntegrationConfig `tenant-operator-config` in the operator's config
namespace, the desired console objects (`desired/console.py`) go through the one applier, which prunes
those labelled as the console's that are no longer wanted. An IntegrationConfig the schema refuses
never reaches here (its webhook and CRD schema refuse it first).
"""

from __future__ import annotations

import logging
from typing import Any

import kopf

from kubetenancy.desired import console
from kubetenancy.frontdoors.components import console_component
from kubetenancy.k8s import Kube, applier
from kubetenancy.operator.config import OperatorConfig

CONFIG_NAME = "tenant-operator-config"
log = logging.getLogger(__name__)


async def sync_console(kube: Kube, namespace: str, spec: dict[str, Any] | None) -> int:
    """Apply what the spec asks for (nothing when absent or disabled); returns how many objects are wanted."""
    objects = console.console_objects(console_component(spec), namespace)
    await applier.sync_selected(kube, objects, console.SELECTOR, console.KINDS)
    return len(objects)


def register_console_handlers(registry: kopf.OperatorRegistry, kube: Kube, config: OperatorConfig) -> None:
    @kopf.on.event("tenantoperator.stakater.com", "v1beta1", "integrationconfigs", registry=registry)
    async def integration_config_changed(**kwargs: Any) -> None:
        if kwargs["namespace"] != config.config_namespace or kwargs["name"] != CONFIG_NAME:
            return
        deleted = kwargs["type"] == "DELETED"
        wanted = await sync_console(
            kube, config.config_namespace, None if deleted else dict(kwargs["body"].get("spec") or {})
        )
        log.info("console: %s", f"{wanted} objects applied" if wanted else "not enabled; removed if it was deployed")
