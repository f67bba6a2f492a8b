"""`tenantoperator.stakater.com`: the Multi Tenant Operator's API, served verbatim.

Tenant (v1beta3), Quota (v1beta1) and IntegrationConfig (v1beta1). Each field's description becomes the
CRD's API documentation.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, model_validator

from kubetenancy.api.crd import PrinterColumn, ServedKind
from kubetenancy.api.schema import ApiModel, FreeForm, Quantity

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
    default_request: ResourceList | None = Field(None, description="Default requests of containers that set none.")
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
        PrinterColumn("Memory", ".spec.resourcequota.hard['requests\\.memory']", description="requests.memory"),
    ),
)


# -- Tenant v1beta3 ---------------------------------------------------------------------------------


class Subjects(ApiModel):
    users: list[str] = Field(default_factory=list, description="User names, as the API server knows them.")
    groups: list[str] = Field(default_factory=list, description="Group names, as the API server knows them.")


class AccessControl(ApiModel):
    owners: Subjects | None = Field(None, description="Full rights in every tenant namespace; may add namespaces.")
    editors: Subjects | None = Field(None, description="May change workloads in every tenant namespace.")
    viewers: Subjects | None = Field(None, description="Read-only access to every tenant namespace.")


class Metadata(ApiModel):
    labels: dict[str, str] = Field(default_factory=dict, description="Labels to set.")
    annotations: dict[str, str] = Field(default_factory=dict, description="Annotations to set.")


class SpecificMetadata(Metadata):
    namespaces: list[str] = Field(default_factory=list, description="Full names of the namespaces concerned.")


class NamespaceMetadata(ApiModel):
    common: Metadata | None = Field(None, description="Labels and annotations of every tenant namespace.")
    sandbox: Metadata | None = Field(
        None,
        description="Labels and annotations of sandboxes; {{ TENANT.USERNAME }} is replaced by the user.",
    )
    specific: list[SpecificMetadata] = Field(
        default_factory=list, description="Labels and annotations of named namespaces; win over common ones."
    )


class Sandboxes(ApiModel):
    enabled: bool = Field(False, description="Give every owner, editor and viewer user a <tenant>-<user>-sandbox.")
    private: bool = Field(False, description="Only the sandbox's user may access it.")


class Namespaces(ApiModel):
    with_tenant_prefix: list[str] = Field(default_factory=list, description="Namespaces created as <tenant>-<name>.")
    without_tenant_prefix: list[str] = Field(default_factory=list, description="Namespaces created verbatim.")
    sandboxes: Sandboxes | None = Field(None, description="Per-user sandbox namespaces.")
    on_delete_purge_namespaces: bool = Field(
        False, description="Delete the tenant's namespaces, and all they hold, when the Tenant is deleted."
    )
    metadata: NamespaceMetadata | None = Field(None, description="Labels and annotations of tenant namespaces.")


class AllowList(ApiModel):
    allowed: list[str] = Field(
        default_factory=list,
        description="Names that may be used; empty allows all. The empty string stands for 'none given'.",
    )


class DenyList(ApiModel):
    denied: list[str] = Field(
        default_factory=list, description="Names that may not be used; an unset name counts as 'default'."
    )


class HostValidation(ApiModel):
    allowed: list[str] = Field(default_factory=list, description="Host names allowed as written (no globbing).")
    allowed_regex: str | None = Field(None, description="A regular expression of further allowed host names.")
    deny_wildcards: bool = Field(False, description="Refuse wildcard hosts such as *.example.com.")

    @model_validator(mode="after")
    def _regex_compiles(self) -> HostValidation:
        # MTO silently stops enforcing on an invalid regex; refusing it at admission is safer.
        if self.allowed_regex is not None:
            try:
                re.compile(self.allowed_regex)
            except re.error as error:
                raise ValueError(f"allowedRegex is not a valid regular expression: {error}") from None
        return self


class TenantSpec(ApiModel):
    quota: str = Field(description="Name of the Quota shared by all of the tenant's namespaces.")
    access_control: AccessControl | None = Field(None, description="Who may do what in the tenant's namespaces.")
    namespaces: Namespaces | None = Field(None, description="The tenant's namespaces.")
    desc: str | None = Field(None, description="A human-readable description of the tenant.")
    storage_classes: AllowList | None = Field(
        None, description="StorageClasses for PVCs: absent = not managed, empty = all, list = only those."
    )
    ingress_classes: AllowList | None = Field(
        None,
        description="IngressClasses for Ingresses: absent = not managed, empty = all, list = only those.",
    )
    pod_priority_classes: AllowList | None = Field(
        None, description="PriorityClasses for pods: absent = not managed, empty = all, list = only those."
    )
    service_accounts: DenyList | None = Field(None, description="ServiceAccounts workloads may not run as.")
    image_registries: AllowList | None = Field(
        None, description='Registries images may come from; include "" for images without a registry.'
    )
    host_validation_config: HostValidation | None = Field(None, description="Rules for Ingress host names.")


class Condition(ApiModel):
    type: str = Field(description="Condition type, e.g. Ready.")
    status: Literal["True", "False", "Unknown"] = Field(description="True, False or Unknown.")
    reason: str = Field(description="One CamelCase word saying why.")
    message: str = Field("", description="What happened, for people.")
    observed_generation: int | None = Field(None, description="The .metadata.generation this reflects.")
    last_transition_time: str = Field(description="When the status last changed (RFC 3339).")


class TenantStatus(ApiModel):
    conditions: list[Condition] = Field(default_factory=list, description="Ready and its reason.")
    observed_generation: int | None = Field(None, description="The .metadata.generation last reconciled.")
    namespaces: list[str] = Field(default_factory=list, description="The tenant's namespaces.")
    applied_hash: str | None = Field(
        None, description="Hash of the objects last applied for this tenant (unchanged = no writes)."
    )


TENANT_V1BETA3 = ServedKind(
    group=GROUP,
    version="v1beta3",
    kind="Tenant",
    plural="tenants",
    namespaced=False,
    spec=TenantSpec,
    status=TenantStatus,
    description="A team sharing the cluster: its namespaces, members, quota and policies.",
    printer_columns=(
        PrinterColumn("Quota", ".spec.quota"),
        PrinterColumn("Ready", '.status.conditions[?(@.type=="Ready")].status'),
        PrinterColumn("Reason", '.status.conditions[?(@.type=="Ready")].reason'),
    ),
)


# -- IntegrationConfig v1beta1 ----------------------------------------------------------------------


class ClusterRoles(ApiModel):
    cluster_roles: list[str] = Field(description="ClusterRoles bound in each tenant namespace.")


class TenantRoleSet(ApiModel):
    owner: ClusterRoles | None = Field(None, description="Roles of owners.")
    editor: ClusterRoles | None = Field(None, description="Roles of editors.")
    viewer: ClusterRoles | None = Field(None, description="Roles of viewers.")


class CustomTenantRoles(TenantRoleSet):
    label_selector: FreeForm = Field(description="Namespaces (by label selector) that get these roles.")


class TenantRoles(ApiModel):
    default: TenantRoleSet = Field(description="Roles in every tenant namespace.")
    custom: list[CustomTenantRoles] = Field(
        default_factory=list, description="Role overrides for namespaces matching a label selector."
    )

    @model_validator(mode="after")
    def _default_is_complete(self) -> TenantRoles:
        missing = [tier for tier in ("owner", "editor", "viewer") if getattr(self.default, tier) is None]
        if missing:
            raise ValueError(f"tenantRoles.default must name roles for owner, editor and viewer; missing {missing}")
        return self


class Rbac(ApiModel):
    tenant_roles: TenantRoles | None = Field(None, description="ClusterRoles of owners, editors and viewers.")


class Privileged(ApiModel):
    namespaces: list[str] = Field(default_factory=list, description="Regexes of namespaces tenants never own.")
    users: list[str] = Field(default_factory=list, description="Regexes of users that bypass tenant rules.")
    groups: list[str] = Field(default_factory=list, description="Regexes of groups that bypass tenant rules.")


class IntegrationAccessControl(ApiModel):
    rbac: Rbac | None = Field(None, description="Roles given to tenant members.")
    privileged: Privileged | None = Field(None, description="Namespaces, users and groups left alone.")


class NetworkPolicies(ApiModel):
    disable_intra_tenant_networking: bool = Field(
        False, description="Isolate each tenant namespace from the others of the same tenant."
    )
    disable_node_port_services: bool = Field(False, description="Refuse Services of type NodePort.")
    disable_host_ports: bool = Field(False, description="Refuse containers with hostPort.")


PodSecurityLevel = Literal["privileged", "baseline", "restricted"]


class PodSecurity(ApiModel):
    level: PodSecurityLevel = Field(
        "baseline",
        description="The Pod Security Standard enforced in every tenant namespace (its "
        "pod-security.kubernetes.io/enforce label). A tenant's namespace metadata may ask for a stricter level, "
        "never a looser one, and the operator never lowers a level someone set stricter (kubetenancy's extension).",
    )


class TenantPolicies(ApiModel):
    network: NetworkPolicies | None = Field(None, description="Network rules of tenant namespaces.")
    pod_security: PodSecurity | None = Field(
        None, description="The Pod Security level of tenant namespaces (default baseline; kubetenancy's extension)."
    )
    always_pull_images: bool = Field(
        False,
        description="Set imagePullPolicy: Always on every container of every pod created in a tenant namespace, as "
        "Kubernetes' AlwaysPullImages admission plugin does, so a pod only runs an image its registry lets it pull "
        "(kubetenancy's extension; Capsule's imagePullPolicies).",
    )


class ComponentIngress(ApiModel):
    host: str | None = Field(None, description="Host name of this component's Ingress (none: no Ingress).")
    tls_secret_name: str | None = Field(None, description="Secret with the TLS certificate for that host.")


class ComponentsIngress(ApiModel):
    ingress_class_name: str | None = Field(None, description="IngressClass of the components' Ingresses.")
    host: str | None = Field(None, description="One host for the console (MTO's consolidated mode).")
    tls_secret_name: str | None = Field(None, description="Secret with the TLS certificate for `host`.")
    console: ComponentIngress | None = Field(None, description="The console's own host.")
    gateway: ComponentIngress | None = Field(None, description="The gateway's host (served by the console).")
    keycloak: ComponentIngress | None = Field(
        None, description="Host routed to Service tenant-operator-keycloak (a Keycloak you run; not deployed here)."
    )


def _price(alias: str, what: str) -> Any:
    return Field(
        None,
        alias=alias,
        pattern=r"^[0-9]+(\.[0-9]+)?$",
        description=f"{what} (a decimal number in a string, as MTO and OpenCost write it).",
    )


class ShowbackCustomPrices(ApiModel):
    """MTO's `showbackOpts.custom`: OpenCost's custom price list, field for field."""

    cpu: str | None = _price("CPU", "Price of one CPU core for an hour")
    spot_cpu: str | None = _price("spotCPU", "Price of one spot CPU core for an hour (read, not applied yet)")
    ram: str | None = _price("RAM", "Price of one GiB of memory for an hour")
    spot_ram: str | None = _price("spotRAM", "Price of one GiB of spot memory for an hour (read, not applied yet)")
    gpu: str | None = _price("GPU", "Price of one GPU for an hour")
    storage: str | None = _price("storage", "Price of one GiB of requested storage for an hour")
    zone_network_egress: str | None = _price("zoneNetworkEgress", "Per GiB across zones (read, not applied)")
    region_network_egress: str | None = _price("regionNetworkEgress", "Per GiB across regions (read, not applied)")
    internet_network_egress: str | None = _price("internetNetworkEgress", "Per GiB to the internet (read, not applied)")
    spot_label: str | None = Field(None, alias="spotLabel", description="Node label that marks spot nodes.")
    spot_label_value: str | None = Field(None, alias="spotLabelValue", description="Its value on spot nodes.")
    provider: str | None = Field(None, description="OpenCost's provider name (custom).")
    description: str | None = Field(None, description="A note on where the prices come from.")


class ShowbackOpts(ApiModel):
    custom: ShowbackCustomPrices | None = Field(
        None, description="Custom prices; OpenCost's default custom prices for every one not set."
    )
    retention_period: str | None = Field(
        None,
        description="How long Prometheus keeps samples (MTO's; the local plane keeps 8d, at least the 7-day trend).",
    )


class Components(ApiModel):
    console: bool = Field(False, description="Deploy the web console (Deployment, Service, Ingresses).")
    showback: bool = Field(False, description="Cost showback: what each tenant costs, from Prometheus' samples.")
    showback_opts: ShowbackOpts | None = Field(None, description="Showback's prices (MTO's showbackOpts).")
    ingress: ComponentsIngress | None = Field(None, description="Ingresses of the console and its companions.")


class IntegrationConfigSpec(ApiModel):
    access_control: IntegrationAccessControl | None = Field(None, description="Tenant roles and privileges.")
    tenant_policies: TenantPolicies | None = Field(None, description="Policies applied to every tenant.")
    components: Components | None = Field(None, description="Optional components: the console, showback.")


INTEGRATION_CONFIG_V1BETA1 = ServedKind(
    group=GROUP,
    version="v1beta1",
    kind="IntegrationConfig",
    plural="integrationconfigs",
    namespaced=True,
    spec=IntegrationConfigSpec,
    description="Cluster-wide settings of the tenant operator (one object, tenant-operator-config).",
)
