"""Registering a managed cluster, and why an empty `show admin-rbac` is empty (pure)."""

from __future__ import annotations

import base64

import pytest
import yaml

from kubetenancy.frontdoors.sveltos import sveltos_cluster_from_cr as from_sveltos_cluster
from kubetenancy.multicluster.adminrbac import Collected, why_empty
from kubetenancy.multicluster.clusters import kubeconfig_from_secret
from kubetenancy.multicluster.registration import registration, self_contained

KUBECONFIG = {
    "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1", "certificate-authority": "/ca.crt"}}],
    "users": [{"name": "u", "user": {"client-certificate": "/u.crt", "client-key": "/u.key"}}],
    "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
    "current-context": "x",
}


def test_a_registration_is_what_sveltosctl_and_cluster_api_write() -> None:
    inlined = self_contained(KUBECONFIG, lambda path: path.encode())
    assert inlined["clusters"][0]["cluster"]["certificate-authority-data"] == base64.b64encode(b"/ca.crt").decode()
    assert "client-key" not in inlined["users"][0]["user"]
    assert "certificate-authority" in KUBECONFIG["clusters"][0]["cluster"], "the input is left as it was"
    namespace, secret, cluster = registration("SveltosCluster", "gke", "production", inlined, {"env": "internal"})
    assert namespace == {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gke"}}
    assert secret["metadata"] == {"name": "production-sveltos-kubeconfig", "namespace": "gke"}
    assert yaml.safe_load(base64.b64decode(secret["data"]["kubeconfig"])) == inlined
    assert (cluster["apiVersion"], cluster["metadata"]["labels"]) == (
        "lib.projectsveltos.io/v1beta1",
        {"env": "internal"},
    )
    # The operator reads back exactly what was written.
    managed = from_sveltos_cluster(cluster)
    assert kubeconfig_from_secret(managed, secret) == inlined
    _, capi_secret, capi = registration("Cluster", "default", "workload", inlined, {})
    assert (capi_secret["metadata"]["name"], list(capi_secret["data"])) == ("workload-kubeconfig", ["value"])
    assert capi["apiVersion"] == "cluster.x-k8s.io/v1beta1"
    with pytest.raises(ValueError, match="SveltosCluster or a Cluster"):
        registration("Machine", "a", "b", inlined, {})


def test_an_empty_admin_rbac_says_why() -> None:
    assert "no managed cluster is registered" in why_empty(Collected([], {}, 0, 0), admin=None)
    assert "none of the 3 registered" in why_empty(Collected([], {}, 3, 0), admin=None)
    assert why_empty(Collected([], {"c": "down"}, 1, 1), admin=None) == "no managed cluster could be read (see above)"
    assert 'nothing is granted to tenant admin "foo" in the 2 managed cluster(s) read' in why_empty(
        Collected([], {}, 2, 2), admin="foo"
    )
