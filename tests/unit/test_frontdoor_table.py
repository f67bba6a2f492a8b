"""The table of front doors: every served kind has its door, and tenants meet their quotas there."""

from __future__ import annotations

from kubetenancy.api import SERVED_CRDS
from kubetenancy.api.sveltos import ClusterProfileSpec
from kubetenancy.desired import content_hash
from kubetenancy.frontdoors.table import (
    ALL,
    CAPI_CLUSTER,
    CLUSTER_PROFILE,
    DOORS,
    KIOSK_ACCOUNT,
    KIOSK_ACCOUNT_QUOTA,
    MTO_QUOTA,
    MTO_TENANT,
    SVELTOS_CLUSTER,
    door_of,
    with_quota,
)
from kubetenancy.multicluster.profiles import profile_hash


def test_every_served_kind_has_exactly_one_door() -> None:
    served = {(kind.api_version, kind.kind) for versions in SERVED_CRDS for kind in versions}
    assert served <= set(DOORS)  # and doors for kinds other projects serve (CAPA's)
    assert len(ALL) == len(DOORS)
    assert {door.served.group for door in ALL if (door.served.api_version, door.served.kind) not in served} == {
        "infrastructure.cluster.x-k8s.io",
        "controlplane.cluster.x-k8s.io",
    }
    assert door_of("tenantoperator.stakater.com/v1beta3", "Tenant") is MTO_TENANT
    assert door_of("v1", "Namespace") is None


def test_a_tenant_meets_the_quota_it_names_or_the_quotas_naming_it() -> None:
    tenant = MTO_TENANT.read({"metadata": {"name": "t"}, "spec": {"quota": "small"}})
    assert (tenant.quota_name, tenant.quota) == ("small", None)
    small = MTO_QUOTA.read({"metadata": {"name": "small"}, "spec": {"resourcequota": {"hard": {"pods": 2}}}})
    resolved, not_ready = with_quota(tenant, {"small": small}, {})
    assert (resolved.quota, not_ready) == (small, None)
    _, missing = with_quota(tenant, {}, {})
    assert missing is not None
    assert missing[0] == "QuotaNotFound"
    assert 'Quota "small" does not exist' in missing[1]

    account = KIOSK_ACCOUNT.read({"metadata": {"name": "a"}, "spec": {}})
    quotas = {
        name: KIOSK_ACCOUNT_QUOTA.read(
            {"metadata": {"name": name}, "spec": {"account": owner, "quota": {"hard": {"pods": pods}}}}
        )
        for name, owner, pods in (("q1", "a", "5"), ("q2", "a", "3"), ("q3", "other", "1"))
    }
    assert quotas["q1"].tenant == "a"
    combined, not_ready = with_quota(account, {}, quotas)
    assert not_ready is None
    assert combined.quota is not None
    assert (combined.quota.name, dict(combined.quota.hard)) == ("q1, q2", {"pods": "3"})
    unlimited, _ = with_quota(KIOSK_ACCOUNT.read({"metadata": {"name": "b"}}), {}, quotas)
    assert unlimited.quota is None


def test_managed_clusters_carry_the_coordinates_of_what_registered_them() -> None:
    cluster = SVELTOS_CLUSTER.read({"metadata": {"name": "production", "namespace": "gke"}})
    assert cluster.reference() == {
        "apiVersion": "lib.projectsveltos.io/v1beta1",
        "kind": "SveltosCluster",
        "namespace": "gke",
        "name": "production",
    }
    assert cluster.probed


def test_profile_hashes_are_the_ones_earlier_versions_stored() -> None:
    spec = {
        "policyRefs": [{"kind": "ConfigMap", "name": "a", "namespace": "n"}],
        "helmCharts": [
            {
                "repositoryURL": "https://charts.example",
                "repositoryName": "r",
                "chartName": "r/c",
                "chartVersion": "1",
                "releaseName": "k",
                "releaseNamespace": "k",
                "values": "a: 1",
            }
        ],
    }
    cluster = CAPI_CLUSTER.read({"metadata": {"name": "w", "namespace": "default"}})
    features = ClusterProfileSpec.model_validate(spec).model_dump(mode="json", include={"policy_refs", "helm_charts"})
    stored = content_hash([cluster.reference(), {"admin": ""}, features])
    profile = CLUSTER_PROFILE.read({"metadata": {"name": "p"}, "spec": spec})
    assert profile_hash(cluster, profile, None, []) == stored
