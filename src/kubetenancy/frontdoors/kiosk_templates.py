"""`config.kiosk.sh` Template and TemplateInstance → the template model (`Template`, `Instance`).

Parses and validates with the typed API models and nothing else: no I/O, no rendering.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubetenancy.api.kiosk import ACCOUNT_LABEL
from kubetenancy.api.kiosk_templates import (
    TEMPLATE_INSTANCE_V1ALPHA1,
    TEMPLATE_V1ALPHA1,
    TemplateFields,
    TemplateInstanceParameter,
    TemplateInstanceSpec,
    TemplateParameter,
)
from kubetenancy.template_model import Instance, Parameter, Predefined, Template

PREDEFINED = (Predefined("NAMESPACE"), Predefined("ACCOUNT", (ACCOUNT_LABEL,)))


def parameters(declared: Iterable[TemplateParameter]) -> tuple[Parameter, ...]:
    return tuple(Parameter(p.name, p.value, p.required, p.validation) for p in declared)


def values(given: Iterable[TemplateInstanceParameter]) -> dict[str, str]:
    return {p.name: p.value for p in given}


def top_level(cr: Mapping[str, Any], *names: str) -> dict[str, Any]:
    """The fields a kind keeps beside (or instead of) a spec."""
    return {name: cr[name] for name in names if cr.get(name) is not None}


def template_from_cr(cr: Mapping[str, Any]) -> Template:
    fields = TemplateFields.model_validate(top_level(cr, "resources", "parameters"))
    resources = fields.resources
    return Template(
        name=cr["metadata"]["name"],
        manifests=tuple(resources.manifests) if resources else (),
        parameters=parameters(fields.parameters),
        predefined=PREDEFINED,
        uses_helm=resources is not None and resources.helm is not None,
        version=cr["metadata"].get("resourceVersion", ""),
    )


def instance_from_cr(cr: Mapping[str, Any]) -> Instance:
    spec = TemplateInstanceSpec.model_validate(cr.get("spec") or {})
    metadata = cr["metadata"]
    return Instance(
        api_version=TEMPLATE_INSTANCE_V1ALPHA1.api_version,
        kind=TEMPLATE_INSTANCE_V1ALPHA1.kind,
        name=metadata["name"],
        uid=metadata["uid"],
        template_api_version=TEMPLATE_V1ALPHA1.api_version,
        template=spec.template,
        namespace=metadata["namespace"],
        sync=spec.sync,
        parameters=values(spec.parameters),
        generation=metadata.get("generation", 1),
    )
