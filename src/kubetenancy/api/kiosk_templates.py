"""`config.kiosk.sh/v1alpha1` Template and TemplateInstance, served verbatim.

Field names and meanings are Kiosk's. MTO's templates (`tenantoperator.stakater.com`) grew out of these
and share their parameter and Helm parts, which `api.tenantoperator_templates` imports from here. No I/O.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator

from kubetenancy.api.crd import PrinterColumn, ServedKind
from kubetenancy.api.schema import ApiModel, FreeForm

GROUP = "config.kiosk.sh"

IMMUTABLE_TEMPLATE: dict[str, Any] = {
    "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "Field spec.template is immutable"}]
}
"""Kiosk refused changing an instance's template in a webhook; a CRD rule does it without the operator."""

DeploymentStatus = Literal["Deployed", "Failed", ""]


class HelmSecretRef(ApiModel):
    key: str = Field(description="Key in the Secret holding the value.")
    name: str = Field(description="Name of the Secret.")
    namespace: str = Field("", description="Namespace of the Secret.")


class HelmSetValue(ApiModel):
    name: str = Field(description="The path of the value to set.")
    value: str = Field(description="The value to set.")
    force_string: bool = Field(False, description="Use --set-string instead of --set.")


class HelmChartRepository(ApiModel):
    name: str = Field(description="Name of the chart to deploy.")
    version: str = Field("", description="Version of the chart to deploy.")
    repo_url: str = Field("", description="URL of the chart repository.")
    username: HelmSecretRef | None = Field(None, description="Secret holding the repository user name.")
    password: HelmSecretRef | None = Field(None, description="Secret holding the repository password.")


class HelmChart(ApiModel):
    repository: HelmChartRepository | None = Field(None, description="Load the chart from a repository.")


class HelmConfiguration(ApiModel):
    release_name: str = Field("", description="The Helm release name; the template name if omitted.")
    set_values: list[HelmSetValue] = Field(default_factory=list, description="name=value pairs for helm template.")
    values: str = Field("", description="Additional Helm values, as a YAML block string.")
    chart: HelmChart | None = Field(None, description="Where to find the chart.")


class TemplateParameter(ApiModel):
    name: str = Field(description="Name of the parameter, referenced as ${NAME} or ${{NAME}} in the manifests.")
    value: str = Field("", description="Default value of the parameter.")
    required: bool = Field(False, description="If true, every instance must set this parameter.")
    validation: str = Field("", description="A regular expression the value must match.")

    @field_validator("validation")
    @classmethod
    def _is_a_regular_expression(cls, validation: str) -> str:
        try:
            re.compile(validation)
        except re.error as error:
            raise ValueError(f'"{validation}" is not a regular expression ({error})') from error
        return validation


def parameters_are_unique(parameters: list[TemplateParameter]) -> list[TemplateParameter]:
    names = [p.name for p in parameters]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"parameter {', '.join(twice)} is declared more than once")
    return parameters


def manifests_are_objects(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each manifest names its apiVersion, kind and metadata.name (parameters may fill them in)."""
    for index, manifest in enumerate(manifests):
        metadata = manifest.get("metadata")
        name = metadata.get("name") if isinstance(metadata, dict) else None
        for field, value in (
            ("apiVersion", manifest.get("apiVersion")),
            ("kind", manifest.get("kind")),
            ("metadata.name", name),
        ):
            if not isinstance(value, str) or not value:
                raise ValueError(f"manifest {index + 1} has no {field}")
    return manifests


class TemplateResources(ApiModel):
    manifests: list[FreeForm] = Field(
        default_factory=list,
        description="Kubernetes objects deployed into each namespace the template is instantiated in.",
    )
    helm: HelmConfiguration | None = Field(
        None, description="A Helm chart to deploy. kubetenancy does not deploy Helm charts (see the status)."
    )

    _objects = field_validator("manifests")(manifests_are_objects)


class TemplateFields(ApiModel):
    """A Kiosk Template has no spec: its fields sit at the top of the object."""

    resources: TemplateResources | None = Field(None, description="What the template deploys.")
    parameters: list[TemplateParameter] = Field(
        default_factory=list,
        description="Parameters replacing ${NAME} (or ${{NAME}}, parsed as YAML) in the manifests; "
        "${NAMESPACE} and ${ACCOUNT} are predefined.",
    )

    _unique = field_validator("parameters")(parameters_are_unique)


class TemplateInstanceParameter(ApiModel):
    name: str = Field(description="Name of the parameter to set.")
    value: str = Field("", description="Value of the parameter.")


class TemplateInstanceSpec(ApiModel):
    template: str = Field(
        description="The template to instantiate. This is an immutable field.", json_schema_extra=IMMUTABLE_TEMPLATE
    )
    sync: bool = Field(False, description="Keep the deployed objects in sync with the template (and revert drift).")
    parameters: list[TemplateInstanceParameter] = Field(
        default_factory=list, description="Values of the template's parameters."
    )


class TemplateInstanceStatus(ApiModel):
    status: DeploymentStatus = Field("", description="Deployed, Failed, or empty while pending.")
    reason: str = Field("", description="A brief CamelCase reason for the status.")
    message: str = Field("", description="Why the instance is in this status, for people.")
    template_resource_version: str = Field("", description="Resource version of the template last applied.")
    template_manifests: str = Field("", description="The manifests last rendered and applied (YAML).")
    observed_at: str | None = Field(
        None, description="When the template was last applied.", json_schema_extra={"format": "date-time"}
    )


TEMPLATE_V1ALPHA1 = ServedKind(
    group=GROUP,
    version="v1alpha1",
    kind="Template",
    plural="templates",
    namespaced=False,
    spec=None,
    top_level=TemplateFields,
    description="Objects (and parameters) deployed into a namespace by each TemplateInstance of it.",
)

TEMPLATE_INSTANCE_V1ALPHA1 = ServedKind(
    group=GROUP,
    version="v1alpha1",
    kind="TemplateInstance",
    plural="templateinstances",
    namespaced=True,
    spec=TemplateInstanceSpec,
    status=TemplateInstanceStatus,
    description="A Template deployed into this namespace; what it created goes away with it.",
    printer_columns=(
        PrinterColumn("Template", ".spec.template"),
        PrinterColumn("Sync", ".spec.sync", "boolean"),
        PrinterColumn("Status", ".status.status"),
        PrinterColumn("Reason", ".status.reason"),
    ),
)
