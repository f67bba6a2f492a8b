"""`tenantoperator.stakater.com`: the Multi Tenant Operator's API, served verbatim.

Only the kinds needed so far are here; each field's description becomes the CRD's API documentation.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from kubetenancy.api.crd import PrinterColumn, ServedKind
from kubetenancy.api.schema import ApiModel, Quantity

GROUP = "tenantoperator.stakater.com"

ResourceList = dict[str, Quantity]


class ResourceQuotaPart(ApiModel):
    hard: ResourceList = Field(
        default_factory=dict,
        description="Limits on the sum over all of the tenant's namespaces, with ResourceQuota's keys "
        "(requests.cpu, limits.memory, pods, <class>.storageclass.storage.k8s.io/requests.storage, ...).",
    )


class LimitRangeItem(ApiModel):
    type: Literal["Pod", "Container", "PersistentVolumeClaim"] = Field(
        description="The kind of object the limits apply to."
    )
    max: ResourceList | None = Field(None, description="Maximum usage per object.")
    min: ResourceList | None = Field(None, description="Minimum usage per object.")
    default: ResourceList | None = Field(None, description="Default limits of containers that set none.")
    default_request: ResourceList | None = Field(
        None, description="Default requests of containers that set none."
    )
    max_limit_request_ratio: ResourceList | None = Field(
        None, description="Maximum ratio of limit to request per resource."
    )

    @model_validator(mode="after")
    def _pods_take_no_defaults(self) -> LimitRangeItem:
        # Kubernetes refuses such a LimitRange; catching it here keeps it from failing in every namespace.
        if self.type == "Pod" and (self.default or self.default_request):
            raise ValueError("default and defaultRequest may not be specified when type is 'Pod'")
        return self


class LimitRangePart(ApiModel):
    limits: list[LimitRangeItem] = Field(
        default_factory=list, description="Items of the LimitRange placed in every tenant namespace."
    )


class QuotaSpec(ApiModel):
    resourcequota: ResourceQuotaPart | None = Field(
        None,
        description="Tenant-wide limits: the total over all of the tenant's namespaces never exceeds them.",
    )
    limitrange: LimitRangePart | None = Field(
        None, description="A LimitRange copied into each of the tenant's namespaces."
    )


QUOTA_V1BETA1 = ServedKind(
    group=GROUP,
    version="v1beta1",
    kind="Quota",
    plural="quotas",
    namespaced=False,
    spec=QuotaSpec,
    description="Resource limits shared by all namespaces of the tenants that reference this Quota.",
    printer_columns=(
        PrinterColumn("CPU", ".spec.resourcequota.hard['requests\\.cpu']", description="requests.cpu"),
        PrinterColumn(
            "Memory", ".spec.resourcequota.hard['requests\\.memory']", description="requests.memory"
        ),
    ),
)
