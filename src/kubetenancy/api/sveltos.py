"""Sveltos' multi-cluster tenancy API, served verbatim, and the Cluster API `Cluster` it selects.

`lib.projectsveltos.io/v1beta1` SveltosCluster and RoleRequest, `config.projectsveltos.io/v1beta1`
ClusterProfile, and as much of `cluster.x-k8s.io/v1beta1` Cluster as Sveltos reads (labels, `spec.paused`
and the `<name>-kubeconfig` Secret convention). Field names and meanings follow libsveltos and
addon-controller; each field's description becomes the CRD's API documentation. Features Sveltos has and
kubetenancy does not serve are absent, so a manifest using them is refused instead of silently ignored.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from kubetenancy.api.crd import PrinterColumn, ServedKind
from kubetenancy.api.schema import ApiModel

LIB_GROUP = "lib.projectsveltos.io"
CONFIG_GROUP = "config.projectsveltos.io"
CAPI_GROUP = "cluster.x-k8s.io"

SERVICE_ACCOUNT_NAME_LABEL = "projectsveltos.io/serviceaccount-name"
"""On a ClusterProfile: the tenant admin (a ServiceAccount of the management cluster) it is deployed as."""
SERVICE_ACCOUNT_NAMESPACE_LABEL = "projectsveltos.io/serviceaccount-namespace"
ROLE_REQUEST_FINALIZER = "rolerequestfinalizer.projectsveltos.io"
CLUSTER_PROFILE_FINALIZER = "clusterprofilefinalizer.projectsveltos.io"
MIN_EXPIRATION_SECONDS = 600
"""The shortest validity the TokenRequest API grants."""


# -- shared ------------------------------------------------------------------------------------------


class LabelSelectorRequirement(ApiModel):
    key: str = Field(description="The label key the requirement applies to.")
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"] = Field(description="In, NotIn, Exists or DoesNotExist.")
    values: list[str] = Field(
        default_factory=list, description="Values for In and NotIn (non-empty); empty for Exists and DoesNotExist."
    )

    @model_validator(mode="after")
    def _values_fit_the_operator(self) -> LabelSelectorRequirement:
        if self.operator in ("In", "NotIn") and not self.values:
            raise ValueError(f"values: Required value: must be specified when operator is {self.operator}")
        if self.operator in ("Exists", "DoesNotExist") and self.values:
            raise ValueError(f"values: Forbidden: may not be specified when operator is {self.operator}")
        return self


class Selector(ApiModel):
    """A Kubernetes label selector over managed clusters (SveltosClusters and Cluster API Clusters)."""

    match_labels: dict[str, str] = Field(
        default_factory=dict, description="Labels a cluster must carry, all of them (ANDed)."
    )
    match_expressions: list[LabelSelectorRequirement] = Field(
        default_factory=list, description="Requirements on a cluster's labels, all of them (ANDed)."
    )


class ObjectReference(ApiModel):
    """A reference to a managed cluster, as Kubernetes' ObjectReference."""

    model_config = ConfigDict(extra="ignore")

    api_version: str = Field(description="API version of the cluster object.")
    kind: str = Field(description="SveltosCluster or Cluster.")
    namespace: str = Field(description="Namespace of the cluster object in the management cluster.")
    name: str = Field(description="Name of the cluster object.")


FeatureStatus = Literal["Provisioning", "Provisioned", "Failed", "Removing", "Removed"]


class ClusterInfo(ApiModel):
    cluster: ObjectReference = Field(description="The cluster.")
    hash: str = Field(description="Base64 hash of what is deployed in the cluster (unchanged = no writes).")
    status: FeatureStatus | None = Field(None, description="State of the deployment in the cluster.")
    failure_message: str | None = Field(None, description="Why the deployment failed in this cluster.")


# -- SveltosCluster ----------------------------------------------------------------------------------


class SveltosClusterSpec(ApiModel):
    kubeconfig_name: str | None = Field(
        None, description="Secret holding the kubeconfig; default: <name>-sveltos-kubeconfig in the same namespace."
    )
    kubeconfig_key_name: str | None = Field(
        None, description="Key of the Secret holding the kubeconfig; default: its only key, else kubeconfig or value."
    )
    paused: bool = Field(False, description="Leave the cluster alone: nothing is deployed to or removed from it.")
    data: dict[str, str] = Field(default_factory=dict, description="Arbitrary data about the cluster.")
    consecutive_failure_threshold: int = Field(
        3, ge=1, description="Failed connection checks in a row before the connection is reported Down."
    )


class SveltosClusterStatus(ApiModel):
    version: str | None = Field(None, description="The Kubernetes version of the cluster.")
    ready: bool | None = Field(None, description="Whether the cluster can be managed (its API server answered).")
    connection_status: Literal["Healthy", "Down"] | None = Field(
        None, description="Healthy, or Down after consecutiveFailureThreshold failed checks."
    )
    failure_message: str | None = Field(None, description="Why the last connection check failed.")
    connection_failures: int | None = Field(None, description="Failed connection checks in a row.")


SVELTOS_CLUSTER_V1BETA1 = ServedKind(
    group=LIB_GROUP,
    version="v1beta1",
    kind="SveltosCluster",
    plural="sveltosclusters",
    namespaced=True,
    spec=SveltosClusterSpec,
    status=SveltosClusterStatus,
    description="A managed cluster reached through the kubeconfig in a Secret; selected by its labels.",
    printer_columns=(
        PrinterColumn("Ready", ".status.ready", "boolean", "Whether the cluster can be managed."),
        PrinterColumn("Version", ".status.version", description="Kubernetes version of the cluster."),
    ),
    spec_required=False,
)


# -- Cluster API Cluster -----------------------------------------------------------------------------


class CapiClusterSpec(ApiModel):
    """Only `paused` is read; the rest of Cluster API's spec is kept as written."""

    model_config = ConfigDict(extra="allow")

    paused: bool = Field(False, description="Leave the cluster alone: nothing is deployed to or removed from it.")


CAPI_CLUSTER_V1BETA1 = ServedKind(
    group=CAPI_GROUP,
    version="v1beta1",
    kind="Cluster",
    plural="clusters",
    namespaced=True,
    spec=CapiClusterSpec,
    description="A Cluster API cluster; its kubeconfig is in the Secret <name>-kubeconfig (key value). "
    "Served only where Cluster API is not installed.",
    spec_required=False,
)


# -- RoleRequest -------------------------------------------------------------------------------------


class RoleRef(ApiModel):
    kind: Literal["ConfigMap", "Secret"] = Field(description="ConfigMap or Secret.")
    name: str = Field(min_length=1, description="Name of the ConfigMap or Secret holding Roles and ClusterRoles.")
    namespace: str = Field(description="Its namespace in the management cluster.")


class RoleRequestSpec(ApiModel):
    cluster_selector: Selector = Field(
        default_factory=Selector, description="Clusters where the permissions are granted."
    )
    role_refs: list[RoleRef] = Field(
        default_factory=list,
        description="ConfigMaps and Secrets whose data hold the Roles and ClusterRoles to grant (YAML, --- between).",
    )
    expiration_seconds: int | None = Field(
        None,
        ge=MIN_EXPIRATION_SECONDS,
        description="Validity of the tenant admin's token in each cluster (renewed before it expires); "
        "default one year.",
    )
    service_account_name: str = Field(
        min_length=1, description="The ServiceAccount, in the management cluster, representing the tenant admin."
    )
    service_account_namespace: str = Field(min_length=1, description="Its namespace.")


class RoleRequestStatus(ApiModel):
    matching_clusters: list[ObjectReference] = Field(
        default_factory=list, description="Clusters currently matching the clusterSelector."
    )
    cluster_info: list[ClusterInfo] = Field(
        default_factory=list, description="Per cluster, the hash of the roles deployed and the outcome."
    )
    failure_message: str | None = Field(None, description="Why the request cannot be deployed at all, if so.")


ROLE_REQUEST_V1BETA1 = ServedKind(
    group=LIB_GROUP,
    version="v1beta1",
    kind="RoleRequest",
    plural="rolerequests",
    namespaced=False,
    spec=RoleRequestSpec,
    status=RoleRequestStatus,
    description="Grants a tenant admin (a ServiceAccount) Roles and ClusterRoles in every matching cluster.",
    printer_columns=(
        PrinterColumn("Admin", ".spec.serviceAccountName"),
        PrinterColumn("Failure", ".status.failureMessage"),
    ),
)


# -- ClusterProfile ----------------------------------------------------------------------------------


class PolicyRef(ApiModel):
    kind: Literal["ConfigMap", "Secret"] = Field(description="ConfigMap or Secret.")
    name: str = Field(min_length=1, description="Name of the ConfigMap or Secret whose data hold the manifests.")
    namespace: str = Field(
        "", description="Its namespace in the management cluster; empty: the managed cluster's namespace."
    )
    deployment_type: Literal["Remote"] = Field(
        "Remote", description="Remote: deployed in the managed clusters (Local is not served)."
    )


class HelmChart(ApiModel):
    repository_url: str = Field(min_length=1, alias="repositoryURL", description="URL of the Helm chart repository.")
    repository_name: str = Field(min_length=1, description="Name of the repository (the prefix of chartName).")
    chart_name: str = Field(min_length=1, description="The chart, as <repositoryName>/<chart> or <chart>.")
    chart_version: str = Field(min_length=1, description="The chart version.")
    release_name: str = Field(min_length=1, description="Name of the release.")
    release_namespace: str = Field(min_length=1, description="Namespace of the release (created if missing).")
    values: str | None = Field(None, description="Values of the release, as YAML.")
    helm_chart_action: Literal["Install", "Uninstall"] = Field(
        "Install", description="Install (or upgrade) the release, or uninstall it."
    )


class ClusterProfileSpec(ApiModel):
    cluster_selector: Selector = Field(default_factory=Selector, description="Clusters to deploy to.")
    sync_mode: Literal["OneTime", "Continuous"] = Field(
        "Continuous",
        description="OneTime: deploy once per cluster, ignore later changes; Continuous: roll out every change.",
    )
    stop_matching_behavior: Literal["WithdrawPolicies", "LeavePolicies"] = Field(
        "WithdrawPolicies",
        description="What happens in a cluster that stops matching (or when the profile is deleted): withdraw "
        "what was deployed, or leave it.",
    )
    policy_refs: list[PolicyRef] = Field(
        default_factory=list,
        description="ConfigMaps and Secrets whose data hold manifests (YAML, --- between) to apply.",
    )
    helm_charts: list[HelmChart] = Field(default_factory=list, description="Helm charts to install.")

    @field_validator("helm_charts")
    @classmethod
    def _releases_are_unique(cls, charts: list[HelmChart]) -> list[HelmChart]:
        seen: set[tuple[str, str]] = set()
        for chart in charts:
            release = (chart.release_namespace, chart.release_name)
            if release in seen:
                raise ValueError(f"release {release[0]}/{release[1]} is listed twice in helmCharts")
            seen.add(release)
        return charts


class ProfileClusterInfo(ClusterInfo):
    resources: list[str] = Field(
        default_factory=list,
        description="What policyRefs deployed in the cluster, as Kind.apiVersion:namespace/name (kubetenancy).",
    )
    releases: list[str] = Field(
        default_factory=list, description="Helm releases installed in the cluster, as namespace/name (kubetenancy)."
    )


class ClusterProfileStatus(ApiModel):
    matching_clusters: list[ObjectReference] = Field(
        default_factory=list, description="Clusters currently matching the clusterSelector."
    )
    cluster_info: list[ProfileClusterInfo] = Field(
        default_factory=list,
        description="Per cluster, the outcome (kubetenancy; Sveltos reports it in ClusterSummary objects).",
    )
    failure_message: str | None = Field(
        None, description="Why the profile cannot be deployed anywhere, if so (kubetenancy)."
    )


CLUSTER_PROFILE_V1BETA1 = ServedKind(
    group=CONFIG_GROUP,
    version="v1beta1",
    kind="ClusterProfile",
    plural="clusterprofiles",
    namespaced=False,
    spec=ClusterProfileSpec,
    status=ClusterProfileStatus,
    description="Manifests and Helm charts deployed to every matching cluster, as the platform admin or, when "
    "labelled with projectsveltos.io/serviceaccount-name/-namespace, as that tenant admin.",
    printer_columns=(PrinterColumn("Admin", ".metadata.labels['projectsveltos\\.io/serviceaccount-name']"),),
)
