"""How the wrapper modules for the upstream builds are written."""

from __future__ import annotations

from kubetenancy.localcluster.gobuild import (
    ETCD,
    go_binary_name,
    kubernetes_target,
    staging_replacements,
    wrapper_go_mod,
)

KUBERNETES_GO_MOD = """
module k8s.io/kubernetes

require (
\tk8s.io/api v0.0.0
)

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
\tk8s.io/client-go => ./staging/src/k8s.io/client-go
\tk8s.io/cri-streaming => ./staging/src/k8s.io/cri-streaming
)
"""


def test_every_staging_module_is_replaced_by_its_published_version() -> None:
    assert staging_replacements(KUBERNETES_GO_MOD, "1.36.3") == [
        "\tk8s.io/api => k8s.io/api v0.36.3",
        "\tk8s.io/client-go => k8s.io/client-go v0.36.3",
        "\tk8s.io/cri-streaming => k8s.io/cri-streaming v0.36.3",
    ]


def test_wrapper_module_requires_the_pinned_release() -> None:
    target = kubernetes_target(with_kubectl=False)
    go_mod = wrapper_go_mod(target, ["\tk8s.io/api => k8s.io/api v0.36.3"])
    assert "require k8s.io/kubernetes v1.36.3" in go_mod
    assert "replace (\n\tk8s.io/api => k8s.io/api v0.36.3\n)" in go_mod
    assert "replace" not in wrapper_go_mod(ETCD, [])


def test_kubectl_is_built_only_when_asked() -> None:
    assert [name for _, name in kubernetes_target(with_kubectl=False).binaries] == [
        "kube-apiserver",
        "kube-controller-manager",
    ]
    assert "kubectl" in [name for _, name in kubernetes_target(with_kubectl=True).binaries]


def test_binary_names_skip_major_version_suffixes() -> None:
    assert go_binary_name("go.etcd.io/etcd/server/v3") == "server"
    assert go_binary_name("k8s.io/kubernetes/cmd/kube-apiserver") == "kube-apiserver"
    assert go_binary_name("sigs.k8s.io/cluster-api-provider-aws/v2") == "cluster-api-provider-aws"
