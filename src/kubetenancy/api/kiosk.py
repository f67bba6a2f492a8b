"""Kiosk's API, served verbatim: `config.kiosk.sh` (CRDs) and `tenancy.kiosk.sh` (the aggregated views).

`config.kiosk.sh/v1alpha1` Account and AccountQuota are CRDs generated from these models. The
`tenancy.kiosk.sh/v1alpha1` Space and Account are not stored anywhere: the aggregated API server shows
namespaces as Spaces and config Accounts as Accounts, filtered for whoever asks; their models here
validate what clients send it. Each field's description becomes the API documentation.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from kubetenancy.api.crd import ServedKind
from kubetenancy.api.kiosk_templates import TemplateInstanceParameter
from kubetenancy.api.schema import ApiModel, Quantity
from kubetenancy.api.tenantoperator import Condition

CONFIG_GROUP = "config.kiosk.sh"
TENANCY_GROUP = "tenancy.kiosk.sh"
VERSION = "v1alpha1"
ACCOUNT_LABEL = "kiosk.sh/account"
"""On every namespace of an account (a Space); Kiosk's own label, which its users' scripts rely on."""


class Subject(ApiModel):
    kind: Literal["User", "Group", "ServiceAccount"] = Field(description="User, Group or ServiceAccount.")
    name: str = Field(min_length=1, description="Name of the user, group or service account.")
    namespace: str | None = Field(None, description="Namespace of a ServiceAccount subject.")
    api_group: str | None = Field(
        None, description='rbac.authorization.k8s.io for users and groups, "" for service accounts.'
    )


class ObjectMetadata(ApiModel):
    name: str | None = Field(None, description="Name of the object to create.")
    labels: dict[str, str] = Field(default_factory=dict, description="Labels to set.")
    annotations: dict[str, str] = Field(default_factory=dict, description="Annotations to set.")


class AccountTemplateInstanceSpec(ApiModel):
    """A TemplateInstance's spec without the immutability rule: an Account's list of them may change."""

    template: str = Field(min_length=1, description="Name of the Template to instantiate.")
    sync: bool = Field(False, description="Keep the deployed objects in sync with the Template.")
    parameters: list[TemplateInstanceParameter] = Field(
        default_factory=list, description="Values of the Template's parameters."
    )


class AccountTemplateInstance(ApiModel):
    metadata: ObjectMetadata | None = Field(None, description="Metadata of the TemplateInstance to create.")
    spec: AccountTemplateInstanceSpec = Field(description="The TemplateInstance to create in every space.")


class SpaceTemplate(ApiModel):
    metadata: ObjectMetadata | None = Field(None, description="Labels and annotations every space gets.")


class AccountSpace(ApiModel):
    cluster_role: str | None = Field(
        None,
        description='ClusterRole bound for the subjects in each space (default "admin"; "" binds none).',
    )
    limit: int | None = Field(None, ge=0, description="How many spaces the account may own; unset means no limit.")
    template_instances: list[AccountTemplateInstance] = Field(
        default_factory=list,
        description="Templates deployed in every space of the account before its users get access.",
    )
    space_template: SpaceTemplate | None = Field(None, description="Default metadata of the account's spaces.")


class AccountSpec(ApiModel):
    space: AccountSpace | None = Field(None, description="How the account's spaces are made.")
    subjects: list[Subject] = Field(default_factory=list, description="The account's users.")


class AccountNamespace(ApiModel):
    name: str = Field(description="Name of a namespace the account owns.")


class AccountStatus(ApiModel):
    namespaces: list[AccountNamespace] = Field(default_factory=list, description="The account's spaces.")
    conditions: list[Condition] = Field(default_factory=list, description="Ready and its reason (kubetenancy).")
    observed_generation: int | None = Field(None, description="The .metadata.generation last reconciled.")
    applied_hash: str | None = Field(
        None, description="Hash of the objects last applied for this account (unchanged = no writes)."
    )


ACCOUNT_V1ALPHA1 = ServedKind(
    group=CONFIG_GROUP,
    version=VERSION,
    kind="Account",
    plural="accounts",
    namespaced=False,
    spec=AccountSpec,
    status=AccountStatus,
    spec_required=False,
    description="A tenant: its users (subjects) and how its spaces are made.",
)


class QuotaSpec(ApiModel):
    hard: dict[str, Quantity] = Field(
        default_factory=dict,
        description="Limits on the sum over all of the account's spaces, with ResourceQuota's keys.",
    )


class AccountQuotaSpec(ApiModel):
    account: str = Field(min_length=1, description="Name of the Account this quota limits.")
    quota: QuotaSpec = Field(default_factory=QuotaSpec, description="The limits (as in a ResourceQuota).")


class QuotaUsage(ApiModel):
    hard: dict[str, str] = Field(default_factory=dict, description="The limits enforced.")
    used: dict[str, str] = Field(default_factory=dict, description="What is in use now.")


class NamespaceUsage(ApiModel):
    namespace: str = Field(description="A space of the account.")
    status: QuotaUsage = Field(description="Its share of the usage.")


class AccountQuotaStatus(ApiModel):
    total: QuotaUsage = Field(default_factory=QuotaUsage, description="Usage across all of the account's spaces.")
    namespaces: list[NamespaceUsage] = Field(default_factory=list, description="Usage per space.")


ACCOUNT_QUOTA_V1ALPHA1 = ServedKind(
    group=CONFIG_GROUP,
    version=VERSION,
    kind="AccountQuota",
    plural="accountquotas",
    namespaced=False,
    spec=AccountQuotaSpec,
    status=AccountQuotaStatus,
    description="Limits across all spaces of an account; with several for one account the lowest wins.",
)


class SpaceSpec(ApiModel):
    account: str | None = Field(
        None, description="The account owning the space; may be left out by users of exactly one account."
    )
    finalizers: list[str] = Field(default_factory=list, description="The namespace's finalizers (read-only).")


class Space(ApiModel):
    """A `tenancy.kiosk.sh` Space as clients send it (metadata is checked by the server itself)."""

    api_version: str | None = Field(None, alias="apiVersion", description="tenancy.kiosk.sh/v1alpha1.")
    kind: str | None = Field(None, description="Space.")
    metadata: dict[str, object] = Field(default_factory=dict, description="Standard object metadata.")
    spec: SpaceSpec = Field(default_factory=SpaceSpec, description="Which account owns the space.")
    status: dict[str, object] = Field(default_factory=dict, description="Ignored on writes.")
