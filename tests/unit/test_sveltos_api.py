"""The Sveltos API models accept the walkthrough's manifests verbatim and refuse what is not served."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from kubetenancy.api import crd_manifests
from kubetenancy.api.sveltos import ClusterProfileSpec, RoleRequestSpec, SveltosClusterSpec

EXAMPLES = Path(__file__).parents[2] / "examples" / "sveltos-multitenancy"
CHART = {
    "repositoryURL": "u",
    "repositoryName": "r",
    "chartName": "c",
    "chartVersion": "1",
    "releaseName": "x",
    "releaseNamespace": "n",
}


def documents(name: str) -> list[dict]:  # type: ignore[type-arg]
    return [doc for doc in yaml.safe_load_all((EXAMPLES / name).read_text()) if doc]


def test_the_walkthrough_manifests_parse() -> None:
    requests = [
        d for f in ("full-access.yaml", "shared-access.yaml") for d in documents(f) if d["kind"] == "RoleRequest"
    ]
    specs = [RoleRequestSpec.model_validate(r["spec"]) for r in requests]
    assert [(s.service_account_namespace, s.service_account_name) for s in specs] == [
        ("default", "foo"),
        ("default", "eng"),
        ("default", "hr"),
    ]
    assert specs[0].cluster_selector.match_labels == {"org": "foo.io"}
    (profile,) = documents("deploy-kyverno.yaml")
    spec = ClusterProfileSpec.model_validate(profile["spec"])
    assert spec.helm_charts[0].repository_url == "https://kyverno.github.io/kyverno/"
    assert spec.helm_charts[0].to_wire()["repositoryURL"] == "https://kyverno.github.io/kyverno/"
    assert spec.sync_mode == "Continuous"


@pytest.mark.parametrize(
    ("model", "spec", "message"),
    [
        (RoleRequestSpec, {"serviceAccountName": "a", "serviceAccountNamespace": "b", "expirationSeconds": 60}, "600"),
        (SveltosClusterSpec, {"pullMode": True}, "pullMode"),
        (ClusterProfileSpec, {"syncMode": "DryRun"}, "syncMode"),
        (
            ClusterProfileSpec,
            {"clusterSelector": {"matchExpressions": [{"key": "env", "operator": "In"}]}},
            "must be specified when operator is In",
        ),
        (ClusterProfileSpec, {"helmCharts": [CHART, CHART]}, "release n/x is listed twice"),
    ],
)
def test_what_is_not_served_or_invalid_is_refused(model: type, spec: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValidationError, match=message):
        model.model_validate(spec)


def test_crds_use_sveltos_names_and_scopes() -> None:
    crds = {m["metadata"]["name"]: m for m in crd_manifests()}
    assert crds["rolerequests.lib.projectsveltos.io"]["spec"]["scope"] == "Cluster"
    assert crds["clusterprofiles.config.projectsveltos.io"]["spec"]["scope"] == "Cluster"
    assert crds["sveltosclusters.lib.projectsveltos.io"]["spec"]["scope"] == "Namespaced"
    capi = crds["clusters.cluster.x-k8s.io"]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert capi["properties"]["spec"]["x-kubernetes-preserve-unknown-fields"] is True
    rr = crds["rolerequests.lib.projectsveltos.io"]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert set(rr["properties"]["status"]["properties"]) == {"matchingClusters", "clusterInfo", "failureMessage"}
