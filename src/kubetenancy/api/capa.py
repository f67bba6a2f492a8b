"""Typed models of Cluster API AWS (CAPA) identities and of the `identityRef` of the objects that use them.

kubetenancy does not serve these CRDs (CAPA installs them, v1beta2 stored); it reads them to make CAPA's
identities a tenancy feature. Fields follow CAPA v2.13's Go types (`api/v1beta2/awsidentity_types.go`).
`allowedNamespaces`, its `list` and its selector's `matchLabels`/`matchExpressions` keep "absent or null"
apart from "empty", because CAPA's decision turns on exactly that (see `kubetenancy.cloud.allowed_namespaces`).
Only what kubetenancy reads is modelled; other fields of CAPA's objects are ignored, never rejected.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel

from kubetenancy.api.crd import ServedKind
from kubetenancy.api.schema import ApiModel

INFRASTRUCTURE_GROUP = "infrastructure.cluster.x-k8s.io"
CONTROL_PLANE_GROUP = "controlplane.cluster.x-k8s.io"
VERSION = "v1beta2"
CLUSTER_NAME_LABEL = "cluster.x-k8s.io/cluster-name"
"""Cluster API's label on every object of a cluster: the name of the `Cluster` it belongs to."""

IdentityKind = Literal["AWSClusterControllerIdentity", "AWSClusterRoleIdentity", "AWSClusterStaticIdentity"]


class CapaModel(ApiModel):
    """Read-side model of a CAPA object: camelCase on the wire; fields kubetenancy does not read are ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class NamespaceRequirement(CapaModel):
    key: str = Field(description="The namespace label the requirement applies to.")
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"] = Field(description="In, NotIn, Exists or DoesNotExist.")
    values: list[str] | None = Field(None, description="Values for In and NotIn.")


class NamespaceSelector(CapaModel):
    match_labels: dict[str, str] | None = Field(
        None, description="Labels a namespace must carry (ANDed). Present but empty ({}) is not the same as absent."
    )
    match_expressions: list[NamespaceRequirement] | None = Field(
        None, description="Requirements on a namespace's labels (ANDed with matchLabels)."
    )


class AllowedNamespaces(CapaModel):
    names: list[str] | None = Field(
        None, alias="list", description="Namespaces allowed by name. Present but empty ([]) allows none by name."
    )
    selector: NamespaceSelector | None = Field(None, description="Namespaces allowed by their labels.")


class IdentityReference(CapaModel):
    kind: IdentityKind = Field(description="The identity's kind.")
    name: str = Field(min_length=1, description="The identity's name (identities are cluster-scoped).")


class IdentitySpec(CapaModel):
    allowed_namespaces: AllowedNamespaces | None = Field(
        None,
        description="Which namespaces' clusters may use the identity: absent or null none, {} every namespace, "
        "else the union of list and selector.",
    )


class ControllerIdentitySpec(IdentitySpec):
    """AWSClusterControllerIdentity: the controller's own credentials (IRSA, instance profile, environment)."""


class StaticIdentitySpec(IdentitySpec):
    secret_ref: str = Field(
        description="Secret in CAPA's own namespace with AccessKeyID, SecretAccessKey and optional SessionToken."
    )


class RoleIdentitySpec(IdentitySpec):
    role_arn: str = Field(alias="roleARN", description="The IAM role assumed, usually in another account.")
    session_name: str = Field("", description="RoleSessionName of the AssumeRole call.")
    duration_seconds: int = Field(0, description="Session duration (900 to 43200); 0 is the SDK's 15 minutes.")
    inline_policy: str = Field("", description="A JSON session policy narrowing the role's permissions.")
    policy_arns: list[str] = Field(
        default_factory=list, alias="policyARNs", description="Managed session policies (CAPA never sends them)."
    )
    external_id: str = Field("", alias="externalID", description="ExternalId of the AssumeRole call.")
    source_identity_ref: IdentityReference | None = Field(
        None, description="The identity whose credentials assume this role."
    )


class IdentityConsumerSpec(CapaModel):
    """The part of a CAPA cluster object's spec that says which identity reconciles it, and where."""

    identity_ref: IdentityReference | None = Field(
        None, description="The identity; absent means AWSClusterControllerIdentity default (CAPA's default)."
    )
    region: str = Field("", description="The AWS region; empty is the controller's default region.")


def _kind(group: str, kind: str, plural: str, spec: type[CapaModel], *, namespaced: bool = True) -> ServedKind:
    return ServedKind(group=group, version=VERSION, kind=kind, plural=plural, namespaced=namespaced, spec=spec)


CONTROLLER_IDENTITY = _kind(
    INFRASTRUCTURE_GROUP,
    "AWSClusterControllerIdentity",
    "awsclustercontrolleridentities",
    ControllerIdentitySpec,
    namespaced=False,
)
ROLE_IDENTITY = _kind(
    INFRASTRUCTURE_GROUP, "AWSClusterRoleIdentity", "awsclusterroleidentities", RoleIdentitySpec, namespaced=False
)
STATIC_IDENTITY = _kind(
    INFRASTRUCTURE_GROUP, "AWSClusterStaticIdentity", "awsclusterstaticidentities", StaticIdentitySpec, namespaced=False
)
IDENTITY_KINDS = (CONTROLLER_IDENTITY, ROLE_IDENTITY, STATIC_IDENTITY)

AWS_CLUSTER = _kind(INFRASTRUCTURE_GROUP, "AWSCluster", "awsclusters", IdentityConsumerSpec)
AWS_MANAGED_CONTROL_PLANE = _kind(
    CONTROL_PLANE_GROUP, "AWSManagedControlPlane", "awsmanagedcontrolplanes", IdentityConsumerSpec
)
ROSA_CONTROL_PLANE = _kind(CONTROL_PLANE_GROUP, "ROSAControlPlane", "rosacontrolplanes", IdentityConsumerSpec)
ROSA_NETWORK = _kind(INFRASTRUCTURE_GROUP, "ROSANetwork", "rosanetworks", IdentityConsumerSpec)
ROSA_ROLE_CONFIG = _kind(INFRASTRUCTURE_GROUP, "ROSARoleConfig", "rosaroleconfigs", IdentityConsumerSpec)
ROSA_OCM_ROLE_CONFIG = _kind(
    INFRASTRUCTURE_GROUP, "ROSAOCMRoleConfig", "rosaocmroleconfigs", IdentityConsumerSpec, namespaced=False
)
CONSUMER_KINDS = (
    AWS_CLUSTER,
    AWS_MANAGED_CONTROL_PLANE,
    ROSA_CONTROL_PLANE,
    ROSA_NETWORK,
    ROSA_ROLE_CONFIG,
    ROSA_OCM_ROLE_CONFIG,
)
"""Every CAPA kind reconciled with an `identityRef` (templates are not: they are copied into these)."""
NETWORK_OWNERS = frozenset({AWS_CLUSTER.kind, AWS_MANAGED_CONTROL_PLANE.kind})
"""Kinds whose AWS resources (VPC, subnets, load balancers) CAPA finds by a tag carrying only the Cluster
API cluster's name, so two of them with one name in one account and region share those resources."""
