"""`config.kiosk.sh` → model: an Account is a `Tenant`, its AccountQuotas together one `TenantQuota`.

Also the way back for what Kiosk users read: the Account's and AccountQuota's status. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from kubetenancy.api.kiosk import ACCOUNT_LABEL, TENANCY_GROUP, VERSION, AccountQuotaSpec, AccountSpec, Space, Subject
from kubetenancy.api.kiosk_templates import TEMPLATE_INSTANCE_V1ALPHA1
from kubetenancy.model import Members, NamespaceTemplate, Tenant, TenantQuota, Tier
from kubetenancy.quantity import format_quantity, parse

__all__ = [
    "ACCOUNT_LABEL",
    "MANDATORY_TEMPLATES",
    "TENANCY_API_VERSION",
    "TENANCY_GROUP",
    "account_from_cr",
    "account_quota_from_cr",
    "account_quota_status",
    "combined_quota",
    "space_from_cr",
    "subject_user",
]

TENANCY_API_VERSION = f"{TENANCY_GROUP}/{VERSION}"
"""The aggregated API kubetenancy serves (Spaces, and Accounts as their users see them)."""
MANDATORY_TEMPLATES = TEMPLATE_INSTANCE_V1ALPHA1
"""Mandatory templates reach a namespace as Kiosk TemplateInstances, whichever API the tenant came from."""
DEFAULT_SPACE_ROLE = "admin"
"""Kiosk binds `admin` in every space when the account names no clusterRole."""


def subject_user(subject: Subject) -> str:
    """The user name the API server gives a subject (service accounts have their own form)."""
    if subject.kind == "ServiceAccount":
        return f"system:serviceaccount:{subject.namespace or 'default'}:{subject.name}"
    return subject.name


def _members(subjects: Sequence[Subject]) -> Members:
    users = tuple(dict.fromkeys(subject_user(s) for s in subjects if s.kind != "Group"))
    groups = tuple(dict.fromkeys(s.name for s in subjects if s.kind == "Group"))
    return Members(users=users, groups=groups)


def account_quota_from_cr(name: str, spec: Mapping[str, Any]) -> tuple[str, TenantQuota]:
    """(the account it limits, the quota)."""
    parsed = AccountQuotaSpec.model_validate(spec)
    hard = {k: str(v) for k, v in parsed.quota.hard.items()}
    return parsed.account, TenantQuota(name=name, hard=hard, tenant=parsed.account)


def combined_quota(quotas: Sequence[TenantQuota]) -> TenantQuota | None:
    """Several AccountQuotas on one account: for each resource the lowest limit wins."""
    if not quotas:
        return None
    hard: dict[str, str] = {}
    for quota in sorted(quotas, key=lambda q: q.name):
        for resource, limit in quota.hard.items():
            if resource not in hard or parse(limit) < parse(hard[resource]):
                hard[resource] = limit
    return TenantQuota(name=", ".join(sorted(q.name for q in quotas)), hard=hard)


def account_from_cr(name: str, spec: Mapping[str, Any], quota: TenantQuota | None) -> Tenant:
    """The model of an Account; `quota` combines the AccountQuotas naming it (None: unlimited)."""
    parsed = AccountSpec.model_validate(spec)
    space = parsed.space
    role = DEFAULT_SPACE_ROLE if space is None or space.cluster_role is None else space.cluster_role
    template_meta = space.space_template.metadata if space and space.space_template else None
    members: dict[Tier, Members] = {"owner": _members(parsed.subjects), "editor": Members(), "viewer": Members()}
    templates = tuple(
        NamespaceTemplate(
            name=(instance.metadata.name if instance.metadata and instance.metadata.name else instance.spec.template),
            template=instance.spec.template,
            api_version=MANDATORY_TEMPLATES.api_version,
            kind=MANDATORY_TEMPLATES.kind,
            sync=instance.spec.sync,
            parameters=tuple((p.name, p.value) for p in instance.spec.parameters),
            labels=dict(instance.metadata.labels) if instance.metadata else {},
            annotations=dict(instance.metadata.annotations) if instance.metadata else {},
        )
        for instance in (space.template_instances if space else [])
    )
    return Tenant(
        name=name,
        members=members,
        namespaces=(),
        quota_name=quota.name if quota else None,
        quota=quota,
        roles={"owner": (role,) if role else ()},
        common_labels=dict(template_meta.labels) if template_meta else {},
        claim_label=ACCOUNT_LABEL,
        common_annotations=dict(template_meta.annotations) if template_meta else {},
        namespace_limit=space.limit if space else None,
        owners_create_namespaces=False,
        templates=templates,
    )


def space_from_cr(body: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """A `tenancy.kiosk.sh` Space as a client writes it: its metadata, and the account it names (None: none)."""
    space = Space.model_validate(body)
    return dict(space.metadata), space.spec.account


def account_quota_status(hard: Mapping[str, str], used_by_namespace: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    """Kiosk's AccountQuota status: the limits, the total used across the spaces, and each space's share."""
    total: dict[str, Fraction] = {resource: Fraction(0) for resource in hard}
    per_namespace = []
    for namespace, used in sorted(used_by_namespace.items()):
        share = {resource: used[resource] for resource in hard if resource in used}
        for resource, amount in share.items():
            total[resource] += parse(amount)
        per_namespace.append({"namespace": namespace, "status": {"hard": dict(hard), "used": share}})
    used_total = {resource: format_quantity(amount) for resource, amount in total.items()}
    return {"total": {"hard": dict(hard), "used": used_total}, "namespaces": per_namespace}
