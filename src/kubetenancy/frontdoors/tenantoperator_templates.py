"""`tenantoperator.stakater.com/v1alpha1` Template, TemplateInstance and TemplateGroupInstance → the
template model (`Template`, `Instance`).

A TemplateInstance deploys into its own namespace and copies Secrets and ConfigMaps only from its own
tenant; a TemplateGroupInstance deploys into every namespace its selector matches and copies from
anywhere (MTO's rule). Parses and validates with the typed API models and nothing else: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubetenancy.api.tenantoperator_templates import (
    TEMPLATE_GROUP_INSTANCE_V1ALPHA1,
    TEMPLATE_INSTANCE_V1ALPHA1,
    TEMPLATE_V1ALPHA1,
    InstanceParameters,
    LabelSelector,
    MappedResource,
    TemplateFields,
    TemplateGroupInstanceSpec,
    TemplateInstanceSpec,
)
from kubetenancy.frontdoors.kiosk_templates import parameters, top_level, values
from kubetenancy.frontdoors.tenantoperator import MTO_TENANT_LABEL
from kubetenancy.model import TENANT_LABEL
from kubetenancy.template_model import Instance, ObjectRef, Predefined, Requirement, Template
from kubetenancy.template_model import LabelSelector as Selector

TENANT_LABELS = (MTO_TENANT_LABEL, TENANT_LABEL)
PREDEFINED = tuple(
    Predefined(name, labels)
    for names, labels in ((("namespace", "NAMESPACE"), ()), (("tenant", "TENANT"), TENANT_LABELS))
    for name in names
)
"""MTO's documentation writes ${namespace} and ${tenant}; its API reference ${NAMESPACE} and ${TENANT}."""


def _refs(mapped: list[MappedResource]) -> tuple[ObjectRef, ...]:
    return tuple(ObjectRef(m.namespace, m.name) for m in mapped)


def template_from_cr(cr: Mapping[str, Any]) -> Template:
    fields = TemplateFields.model_validate(top_level(cr, "resources", "parameters"))
    resources = fields.resources
    mappings = resources.resource_mappings if resources else None
    return Template(
        name=cr["metadata"]["name"],
        manifests=tuple(resources.manifests) if resources else (),
        parameters=parameters(fields.parameters),
        predefined=PREDEFINED,
        secrets=_refs(mappings.secrets) if mappings else (),
        config_maps=_refs(mappings.config_maps + mappings.configmaps) if mappings else (),
        uses_helm=resources is not None and resources.helm is not None,
        version=cr["metadata"].get("resourceVersion", ""),
    )


def selector(model: LabelSelector) -> Selector:
    requirements = tuple(Requirement(r.key, r.operator, tuple(r.values)) for r in model.match_expressions)
    return Selector(dict(model.match_labels), requirements)


def instance_from_cr(cr: Mapping[str, Any]) -> Instance:
    """A TemplateInstance or a TemplateGroupInstance (by its kind)."""
    metadata = cr["metadata"]
    beside_spec = InstanceParameters.model_validate(top_level(cr, "parameters"))
    grouped = cr.get("kind") == TEMPLATE_GROUP_INSTANCE_V1ALPHA1.kind
    spec_model = TemplateGroupInstanceSpec if grouped else TemplateInstanceSpec
    spec = spec_model.model_validate(cr.get("spec") or {})
    served = TEMPLATE_GROUP_INSTANCE_V1ALPHA1 if grouped else TEMPLATE_INSTANCE_V1ALPHA1
    return Instance(
        api_version=served.api_version,
        kind=served.kind,
        name=metadata["name"],
        uid=metadata["uid"],
        template_api_version=TEMPLATE_V1ALPHA1.api_version,
        template=spec.template,
        namespace=None if grouped else metadata["namespace"],
        selector=selector(spec.selector) if isinstance(spec, TemplateGroupInstanceSpec) else None,
        sync=spec.sync,
        parameters={**values(beside_spec.parameters), **values(spec.parameters)},
        mapping_scope="cluster" if grouped else "tenant",
        tenant_labels=TENANT_LABELS,
        generation=metadata.get("generation", 1),
    )
