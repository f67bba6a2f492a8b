"""What a ClusterProfile deploys to a cluster (pure).

A tenant admin's profile (`ClusterProfile.admin`, from its labels) is deployed with that admin's
kubeconfig for the cluster (from its RoleRequests), so it can do there exactly what the admin was
granted; the others are the platform admin's. Manifests keep what
their author wrote and gain Sveltos' reference labels. Deployed objects are recorded in the status as
`Kind.apiVersion:namespace/name` keys, so a later pass can withdraw what is no longer wanted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from kubetenancy.cluster_model import Admin, ClusterProfile, HelmChart, ManagedCluster
from kubetenancy.desired import content_hash
from kubetenancy.multicluster.grants import (
    REFERENCE_KIND_LABEL,
    REFERENCE_NAME_LABEL,
    REFERENCE_NAMESPACE_LABEL,
    label_value,
)

PROFILE_LABEL = "kubetenancy.dev/cluster-profile"


def profile_manifests(
    profile: str, source: tuple[str, str, str], documents: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The documents of one referenced ConfigMap or Secret, labelled with where they came from."""
    kind, namespace, name = source
    labels = {
        REFERENCE_KIND_LABEL: kind,
        REFERENCE_NAMESPACE_LABEL: namespace,
        REFERENCE_NAME_LABEL: label_value(name),
        PROFILE_LABEL: label_value(profile),
    }
    manifests = []
    for doc in documents:
        meta = dict(doc["metadata"])
        meta["labels"] = {**(meta.get("labels") or {}), **labels}
        manifests.append({**{k: v for k, v in doc.items() if k != "status"}, "metadata": meta})
    return manifests


def resource_key(obj: Mapping[str, Any]) -> str:
    meta = obj["metadata"]
    return f"{obj['kind']}.{obj['apiVersion']}:{meta.get('namespace', '')}/{meta['name']}"


def parse_resource_key(key: str) -> tuple[str, str, str | None, str]:
    """(apiVersion, kind, namespace or None, name) of a `resource_key`."""
    kind, _, rest = key.partition(".")
    api_version, _, place = rest.partition(":")
    namespace, _, name = place.partition("/")
    return api_version, kind, namespace or None, name


def release_key(chart: HelmChart) -> str:
    return f"{chart.release_namespace}/{chart.release_name}"


def chart_reference(chart: HelmChart) -> tuple[str, str | None]:
    """(chart, repository URL for --repo or None): `kyverno/kyverno` in repository `kyverno` is chart `kyverno`."""
    name = chart.chart_name.removeprefix(f"{chart.repository_name}/")
    if chart.repository_url.startswith("oci://"):
        return f"{chart.repository_url.rstrip('/')}/{name}", None
    return name, chart.repository_url


def profile_hash(
    cluster: ManagedCluster, profile: ClusterProfile, admin: Admin | None, manifests: Sequence[Mapping[str, Any]]
) -> str:
    """Equal hashes: the cluster already holds exactly this profile, deployed as the same admin."""
    # The same fields, under the same names, as the hashes that earlier versions stored in statuses.
    features = {
        "policy_refs": [{**dataclasses.asdict(ref), "deployment_type": "Remote"} for ref in profile.policy_refs],
        "helm_charts": [
            {**{k: v for k, v in dataclasses.asdict(c).items() if k != "action"}, "helm_chart_action": c.action}
            for c in profile.helm_charts
        ],
    }
    who = {"admin": f"{admin.namespace}/{admin.name}" if admin else ""}
    return content_hash([cluster.reference(), who, features, *map(dict, manifests)])
