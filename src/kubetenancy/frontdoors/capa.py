"""Cluster API AWS → model: an identity is a `CloudIdentity`, an object with an `identityRef` a `CloudCluster`.

Also which CAPA objects a Cluster API `Cluster` points at (its infrastructure and control plane), so a
CAPA object learns its cluster's name before Cluster API labels it. Pure: no I/O. CAPA's own defaulting
is applied as CAPA applies it (no `identityRef` is AWSClusterControllerIdentity `default`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubetenancy.api.capa import (
    CLUSTER_NAME_LABEL,
    CONSUMER_KINDS,
    CONTROLLER_IDENTITY,
    IDENTITY_KINDS,
    NETWORK_OWNERS,
    AllowedNamespaces,
    IdentityConsumerSpec,
    IdentityReference,
    RoleIdentitySpec,
    StaticIdentitySpec,
)
from kubetenancy.api.crd import ServedKind
from kubetenancy.model import (
    CONTROLLER_IDENTITY_NAME,
    CloudCluster,
    CloudIdentity,
    IdentityKey,
    LabelRequirement,
    NamespaceAllowance,
)

CAPI_GROUP = "cluster.x-k8s.io"
IDENTITIES: Mapping[str, ServedKind] = {k.kind: k for k in IDENTITY_KINDS}
CONSUMERS: Mapping[tuple[str, str], ServedKind] = {(k.group, k.kind): k for k in CONSUMER_KINDS}
DEFAULT_IDENTITY = IdentityKey(CONTROLLER_IDENTITY.kind, CONTROLLER_IDENTITY_NAME)


def allowance(raw: Mapping[str, Any] | None) -> NamespaceAllowance:
    """`spec.allowedNamespaces` as written (None when absent or null)."""
    if raw is None:
        return NamespaceAllowance(present=False)
    parsed = AllowedNamespaces.model_validate(raw)
    selector = parsed.selector
    expressions = None
    if selector is not None and selector.match_expressions is not None:
        expressions = tuple(
            LabelRequirement(r.key, r.operator, tuple(r.values or ())) for r in selector.match_expressions
        )
    return NamespaceAllowance(
        present=True,
        names=tuple(parsed.names) if parsed.names is not None else None,
        match_labels=dict(selector.match_labels) if selector and selector.match_labels is not None else None,
        match_expressions=expressions,
    )


def _key(ref: IdentityReference) -> IdentityKey:
    return IdentityKey(ref.kind, ref.name)


def identity_from_cr(obj: Mapping[str, Any]) -> CloudIdentity:
    """An AWSCluster{Controller,Role,Static}Identity (ValueError for another kind)."""
    kind, name = obj.get("kind", ""), obj["metadata"]["name"]
    if kind not in IDENTITIES:
        raise ValueError(f"{kind} is not a CAPA identity kind")
    spec: Mapping[str, Any] = obj.get("spec") or {}
    key = IdentityKey(kind, name)
    allowed = allowance(spec.get("allowedNamespaces"))
    if kind == "AWSClusterRoleIdentity":
        role = RoleIdentitySpec.model_validate(spec)
        return CloudIdentity(
            key,
            allowed,
            role_arn=role.role_arn,
            source=_key(role.source_identity_ref) if role.source_identity_ref else None,
            session_name=role.session_name,
            external_id=role.external_id,
            duration_seconds=role.duration_seconds,
            inline_policy=role.inline_policy,
        )
    if kind == "AWSClusterStaticIdentity":
        return CloudIdentity(key, allowed, secret_ref=StaticIdentitySpec.model_validate(spec).secret_ref)
    return CloudIdentity(key, allowed)


def is_consumer(group: str, kind: str) -> bool:
    return (group, kind) in CONSUMERS


def _owner_cluster(meta: Mapping[str, Any]) -> str | None:
    for owner in meta.get("ownerReferences") or ():
        if owner.get("kind") == "Cluster" and str(owner.get("apiVersion", "")).startswith(CAPI_GROUP + "/"):
            return str(owner["name"])
    return None


def cluster_from_cr(obj: Mapping[str, Any]) -> CloudCluster:
    """A CAPA object reconciled with an identity; its Cluster API cluster name from its label or owner."""
    meta = obj["metadata"]
    spec = IdentityConsumerSpec.model_validate(obj.get("spec") or {})
    labels = meta.get("labels") or {}
    return CloudCluster(
        kind=obj["kind"],
        namespace=meta.get("namespace") or "",
        name=meta["name"],
        identity=_key(spec.identity_ref) if spec.identity_ref else DEFAULT_IDENTITY,
        region=spec.region,
        cluster_name=labels.get(CLUSTER_NAME_LABEL) or _owner_cluster(meta),
        owns_network=obj["kind"] in NETWORK_OWNERS,
    )


def capi_cluster_refs(obj: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """(kind, name) of the CAPA objects a Cluster API `Cluster` (v1beta1 or v1beta2) points at."""
    spec: Mapping[str, Any] = obj.get("spec") or {}
    refs = []
    for field in ("infrastructureRef", "controlPlaneRef"):
        ref: Mapping[str, Any] = spec.get(field) or {}
        group = ref.get("apiGroup") or str(ref.get("apiVersion", "")).split("/")[0]
        if ref.get("name") and is_consumer(group, str(ref.get("kind", ""))):
            refs.append((str(ref["kind"]), str(ref["name"])))
    return tuple(refs)
