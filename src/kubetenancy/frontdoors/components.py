"""IntegrationConfig `spec.components` -> the console component (None when it is not enabled) and showback's
price list. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubetenancy.api.tenantoperator import ComponentIngress, IntegrationConfigSpec
from kubetenancy.component_model import ConsoleComponent, PriceList, Route


def _route(ingress: ComponentIngress | None) -> Route | None:
    return Route(ingress.host, ingress.tls_secret_name) if ingress is not None and ingress.host else None


def console_component(spec: Mapping[str, Any] | None) -> ConsoleComponent | None:
    components = IntegrationConfigSpec.model_validate(dict(spec or {})).components
    if components is None or not components.console:
        return None
    ingress = components.ingress
    if ingress is None:
        return ConsoleComponent()
    console = _route(ingress.console) or (Route(ingress.host, ingress.tls_secret_name) if ingress.host else None)
    return ConsoleComponent(console, _route(ingress.gateway), _route(ingress.keycloak), ingress.ingress_class_name)


def price_list(spec: Mapping[str, Any] | None) -> PriceList:
    """`spec.components.showbackOpts.custom` with MTO's (OpenCost's) field names; OpenCost's default for
    each price not set."""
    components = IntegrationConfigSpec.model_validate(dict(spec or {})).components
    custom = components.showback_opts.custom if components and components.showback_opts else None
    if custom is None:
        return PriceList()
    given = {name: float(value) for name in vars(PriceList()) if (value := getattr(custom, name)) is not None}
    return PriceList(**given)
