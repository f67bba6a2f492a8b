"""`tenantoperator.stakater.com/v1alpha1` Template, TemplateInstance and TemplateGroupInstance, served verbatim.

Field names follow MTO's API reference. Two spellings its own documentation uses are accepted as well:
`resourceMappings.configmaps` beside `configMaps`, and `parameters` beside `spec` on instances. Fields
kubetenancy adds to a status say so. No I/O.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from kubetenancy.api.crd import PrinterColumn, ServedKind
from kubetenancy.api.kiosk_templates import (
    IMMUTABLE_TEMPLATE,
    DeploymentStatus,
    TemplateInstanceParameter,
    TemplateParameter,
    parameters_are_unique,
)
from kubetenancy.api.kiosk_templates import (
    TemplateResources as KioskTemplateResources,
)
from kubetenancy.api.schema import ApiModel
from kubetenancy.api.tenantoperator import GROUP, Condition

VERSION = "v1alpha1"


class MappedResource(ApiModel):
    name: str = Field(description="Name of the Secret or ConfigMap to copy.")
    namespace: str = Field(description="Namespace it lives in.")


class ResourceMappings(ApiModel):
    secrets: list[MappedResource] = Field(default_factory=list, description="Secrets copied into each namespace.")
    config_maps: list[MappedResource] = Field(
        default_factory=list, description="ConfigMaps copied into each namespace."
    )
    configmaps: list[MappedResource] = Field(
        default_factory=list, description="Same as configMaps (the spelling some MTO documentation uses)."
    )


class TemplateResources(KioskTemplateResources):
    """Kiosk's resources, and MTO's resource mappings."""

    resource_mappings: ResourceMappings | None = Field(
        None, description="Existing Secrets and ConfigMaps copied into each target namespace."
    )


class TemplateFields(ApiModel):
    """An MTO Template has no spec: its fields sit at the top of the object."""

    resources: TemplateResources | None = Field(None, description="What the template deploys.")
    parameters: list[TemplateParameter] = Field(
        default_factory=list,
        description="Parameters replacing ${NAME} (or ${{NAME}}, parsed as YAML) in the manifests; "
        "${namespace} and ${tenant} are predefined.",
    )

    _unique = field_validator("parameters")(parameters_are_unique)


class InstanceParameters(ApiModel):
    parameters: list[TemplateInstanceParameter] = Field(
        default_factory=list,
        description="Values of the template's parameters, where MTO's documentation examples put them "
        "(spec.parameters wins when both set one).",
    )


class TemplateInstanceSpec(ApiModel):
    template: str = Field(
        description="The template to instantiate. This is an immutable field.", json_schema_extra=IMMUTABLE_TEMPLATE
    )
    sync: bool = Field(False, description="Keep the deployed objects in sync with the template (and revert drift).")
    parameters: list[TemplateInstanceParameter] = Field(
        default_factory=list, description="Values of the template's parameters."
    )


class LabelSelectorRequirement(ApiModel):
    key: str = Field(description="The label key.")
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"] = Field(description="How the key relates to values.")
    values: list[str] = Field(default_factory=list, description="Values for In and NotIn.")


class LabelSelector(ApiModel):
    match_labels: dict[str, str] = Field(default_factory=dict, description="Labels a namespace must carry.")
    match_expressions: list[LabelSelectorRequirement] = Field(
        default_factory=list, description="Requirements a namespace's labels must meet (all of them)."
    )


class TemplateGroupInstanceSpec(ApiModel):
    template: str = Field(description="The template deployed into every matching namespace.")
    selector: LabelSelector = Field(description="Namespaces (by label) the template is deployed into.")
    sync: bool = Field(False, description="Keep the deployed objects in sync with the template (and revert drift).")
    parameters: list[TemplateInstanceParameter] = Field(
        default_factory=list, description="Values of the template's parameters."
    )


class MappedResourceState(ApiModel):
    status: DeploymentStatus = Field("", description="Deployed, Failed, or empty while pending.")
    reason: str = Field("", description="Why the copy failed.")


class TemplateInstanceStatus(ApiModel):
    status: DeploymentStatus = Field("", description="Deployed, Failed, or empty while pending.")
    reason: str = Field("", description="A brief CamelCase reason for the status.")
    message: str = Field("", description="Why the instance is in this status, for people.")
    template_hash: str = Field("", description="Hash of what was last applied.")
    template_manifests: str = Field("", description="The manifests last rendered and applied (YAML).")
    mapped_secrets: dict[str, MappedResourceState] = Field(
        default_factory=dict, description="Copied Secrets (by source namespace/name) and their state."
    )
    mapped_configmaps: dict[str, MappedResourceState] = Field(
        default_factory=dict, description="Copied ConfigMaps (by source namespace/name) and their state."
    )
    observed_at: str | None = Field(
        None, description="When the template was last applied.", json_schema_extra={"format": "date-time"}
    )


class DeployedNamespaceState(ApiModel):
    status: DeploymentStatus = Field("", description="Deployed, Failed, or empty while pending.")
    template_manifests: str = Field("", description="Unused by kubetenancy: the hash below stands for them.")
    hash: str = Field("", description="Hash of what was last applied here (kubetenancy).")
    message: str = Field("", description="Why deploying here failed (kubetenancy).")


class TemplateGroupInstanceStatus(ApiModel):
    conditions: list[Condition] = Field(default_factory=list, description="Ready and its reason.")
    observed_generation: int | None = Field(None, description="The .metadata.generation last reconciled.")
    deployed_namespaces: dict[str, DeployedNamespaceState] = Field(
        default_factory=dict, description="Namespaces the template was deployed into, and their state."
    )
    mapped_secrets: dict[str, dict[str, MappedResourceState]] = Field(
        default_factory=dict, description="Per namespace: copied Secrets (by source namespace/name) and their state."
    )
    mapped_configmaps: dict[str, dict[str, MappedResourceState]] = Field(
        default_factory=dict, description="Per namespace: copied ConfigMaps and their state."
    )
    template_manifests_hash: str = Field("", description="Hash of the template's manifests and parameters.")
    template_resource_mapping_hash: str = Field("", description="Hash of the template's resource mappings.")
    namespace_count: int = Field(0, description="How many namespaces the selector matches.")
    kinds: list[str] = Field(
        default_factory=list, description="Kinds (apiVersion/Kind) deployed, to find them by label (kubetenancy)."
    )


TEMPLATE_V1ALPHA1 = ServedKind(
    group=GROUP,
    version=VERSION,
    kind="Template",
    plural="templates",
    namespaced=False,
    spec=None,
    top_level=TemplateFields,
    description="Objects, copies of Secrets and ConfigMaps, and parameters deployed by instances of it.",
)

_INSTANCE_COLUMNS = (
    PrinterColumn("Template", ".spec.template"),
    PrinterColumn("Sync", ".spec.sync", "boolean"),
)

TEMPLATE_INSTANCE_V1ALPHA1 = ServedKind(
    group=GROUP,
    version=VERSION,
    kind="TemplateInstance",
    plural="templateinstances",
    namespaced=True,
    spec=TemplateInstanceSpec,
    status=TemplateInstanceStatus,
    top_level=InstanceParameters,
    description="A Template deployed into this namespace; what it created goes away with it.",
    printer_columns=(
        *_INSTANCE_COLUMNS,
        PrinterColumn("Status", ".status.status"),
        PrinterColumn("Reason", ".status.reason"),
    ),
)

TEMPLATE_GROUP_INSTANCE_V1ALPHA1 = ServedKind(
    group=GROUP,
    version=VERSION,
    kind="TemplateGroupInstance",
    plural="templategroupinstances",
    namespaced=False,
    spec=TemplateGroupInstanceSpec,
    status=TemplateGroupInstanceStatus,
    top_level=InstanceParameters,
    description="A Template deployed into every namespace its selector matches, now and later.",
    short_names=("tgi",),
    printer_columns=(
        *_INSTANCE_COLUMNS,
        PrinterColumn("Namespaces", ".status.namespaceCount", "integer"),
        PrinterColumn("Ready", '.status.conditions[?(@.type=="Ready")].status'),
        PrinterColumn("Reason", '.status.conditions[?(@.type=="Ready")].reason'),
    ),
)
