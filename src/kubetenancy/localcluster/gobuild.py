"""Build pinned etcd, Kubernetes and Helm binaries from Go modules, cached by version.

`go install k8s.io/kubernetes/cmd/kube-apiserver@vX` is refused because kubernetes' go.mod replaces its
staging modules with local paths, so each build happens in a small wrapper module of our own that
requires `k8s.io/kubernetes` and replaces every staging module with its published `v0.Y.Z`. The list of
staging modules is read from the chosen release's own go.mod, never typed by hand.

Binaries land in `<cache>/bin/<component>-v<version>/` only when a build succeeded completely; a missing
binary is the only thing that triggers a build. This module builds and locates binaries; it never runs
them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kubetenancy.localcluster.versions import (
    CAPA_VERSION,
    CAPI_VERSION,
    COREDNS_VERSION,
    DISTRIBUTION_VERSION,
    ETCD_VERSION,
    HELM_VERSION,
    KUBERNETES_VERSION,
    PROMETHEUS_VERSION,
    cache_dir,
    kubernetes_minor,
)

ProgressCallback = Callable[[str, int, int], None]
"""Called as (what is being built, packages compiled so far, packages in total)."""

GO_ENV = {"GOTOOLCHAIN": "local", "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod -buildvcs=false"}


class BuildError(RuntimeError):
    """A binary could not be built; the message says which command failed and how to fix it."""


@dataclass(frozen=True)
class Target:
    """A set of binaries built together from one wrapper module."""

    name: str
    module: str
    version: str
    binaries: tuple[tuple[str, str], ...]
    """(Go main package, binary name) pairs."""
    ldflags: str = ""

    @property
    def packages(self) -> list[str]:
        return [package for package, _ in self.binaries]

    @property
    def bin_dir(self) -> Path:
        return cache_dir() / "bin" / f"{self.name}-v{self.version}"

    @property
    def module_dir(self) -> Path:
        return cache_dir() / "build" / f"{self.name}-v{self.version}"

    def binary(self, name: str) -> Path:
        return self.bin_dir / name


def _kubernetes_ldflags(version: str) -> str:
    major, minor = version.split(".")[:2]
    return " ".join(
        [
            f"-X k8s.io/component-base/version.gitVersion=v{version}",
            f"-X k8s.io/component-base/version.gitMajor={major}",
            f"-X k8s.io/component-base/version.gitMinor={minor}",
            "-X k8s.io/component-base/version.gitTreeState=clean",
            f"-X k8s.io/client-go/pkg/version.gitVersion=v{version}",
            "-s -w",
        ]
    )


def _kubernetes(name: str, commands: Sequence[str]) -> Target:
    binaries = tuple((f"k8s.io/kubernetes/cmd/{command}", command) for command in commands)
    return Target(name, "k8s.io/kubernetes", KUBERNETES_VERSION, binaries, _kubernetes_ldflags(KUBERNETES_VERSION))


def kubernetes_target(*, with_kubectl: bool) -> Target:
    return _kubernetes("kubernetes", ["kube-apiserver", "kube-controller-manager"] + ["kubectl"] * with_kubectl)


KUBERNETES_NODE = _kubernetes("kubernetes-node", ["kubelet", "kube-proxy", "kube-scheduler"])
"""The node's part of the same pinned release, built apart so that a plane without nodes never waits for it."""


ETCD = Target(
    "etcd",
    "go.etcd.io/etcd/server/v3",
    ETCD_VERSION,
    (("go.etcd.io/etcd/server/v3", "etcd"),),
    "-s -w",
)

COREDNS = Target(
    "coredns",
    "github.com/coredns/coredns",
    COREDNS_VERSION,
    (("github.com/coredns/coredns", "coredns"),),
    "-s -w",
)

DISTRIBUTION = Target(
    "distribution",
    "github.com/distribution/distribution/v3",
    DISTRIBUTION_VERSION,
    (("github.com/distribution/distribution/v3/cmd/registry", "registry"),),
    "-s -w",
)

HELM = Target(
    "helm",
    "helm.sh/helm/v3",
    HELM_VERSION,
    (("helm.sh/helm/v3/cmd/helm", "helm"),),
    f"-s -w -X helm.sh/helm/v3/internal/version.version=v{HELM_VERSION} "
    "-X helm.sh/helm/v3/internal/version.gitTreeState=clean",
)

PROMETHEUS = Target(
    "prometheus",
    "github.com/prometheus/prometheus",
    PROMETHEUS_VERSION,
    (
        ("github.com/prometheus/prometheus/cmd/prometheus", "prometheus"),
        ("github.com/prometheus/prometheus/cmd/promtool", "promtool"),
    ),
    f"-s -w -X github.com/prometheus/common/version.Version={PROMETHEUS_VERSION}",
)
"""Prometheus and promtool (which writes backfilled blocks); its go.mod has no replace directives. A module
build has no web UI (its assets are built with npm); the HTTP API, all showback uses, is complete."""

CAPA = Target(
    "cluster-api-provider-aws",
    "sigs.k8s.io/cluster-api-provider-aws/v2",
    CAPA_VERSION,
    (
        ("sigs.k8s.io/cluster-api-provider-aws/v2", "capa-manager"),
        ("sigs.k8s.io/cluster-api-provider-aws/v2/cmd/clusterawsadm", "clusterawsadm"),
    ),
    "-s -w",
)
"""Cluster API AWS's manager and clusterawsadm; its go.mod has no replace directives."""

CAPI = Target(
    "cluster-api",
    "sigs.k8s.io/cluster-api",
    CAPI_VERSION,
    (("sigs.k8s.io/cluster-api", "capi-manager"),),
    "-s -w",
)
"""Cluster API's core manager (the Cluster controller and its webhooks)."""


def _go() -> str:
    go = shutil.which("go")
    if go is None:
        raise BuildError(
            "the Go toolchain is not on PATH: install Go >= 1.26 (it builds etcd and Kubernetes for the "
            "local control plane), or set KUBETENANCY_CACHE_DIR to a cache that already holds the binaries"
        )
    return go


def _run_go(args: Sequence[str], cwd: Path) -> str:
    env = {**os.environ, **GO_ENV}
    result = subprocess.run([_go(), *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BuildError(f"`go {' '.join(args)}` failed in {cwd}:\n{result.stderr.strip()[-4000:]}")
    return result.stdout


def staging_replacements(kubernetes_go_mod: str, version: str) -> list[str]:
    """`replace` lines for every staging module named in kubernetes' own go.mod."""
    staged = re.findall(r"^\s*(k8s\.io/[\w.-]+)\s*=>\s*\./staging/", kubernetes_go_mod, flags=re.MULTILINE)
    if not staged:
        raise BuildError("kubernetes' go.mod lists no staging modules: is this really k8s.io/kubernetes?")
    staging_version = "v0." + version.split(".", 1)[1]
    return [f"\t{module} => {module} {staging_version}" for module in sorted(set(staged))]


def wrapper_go_mod(target: Target, replacements: Sequence[str]) -> str:
    lines = [
        f"module kubetenancy.local/build/{target.name}",
        "",
        "go 1.26.0",
        "",
        f"require {target.module} v{target.version}",
    ]
    if replacements:
        lines += ["", "replace (", *replacements, ")"]
    return "\n".join(lines) + "\n"


def _module_info(target: Target) -> dict[str, str]:
    """`go mod download -json` of the target's module (it lands in Go's module cache)."""
    target.module_dir.mkdir(parents=True, exist_ok=True)
    info: dict[str, str] = json.loads(
        _run_go(["mod", "download", "-json", f"{target.module}@v{target.version}"], target.module_dir)
    )
    return info


def _write_wrapper_module(target: Target) -> None:
    """Write the wrapper go.mod once per version (go then records the resolved requirements in it)."""
    go_mod = target.module_dir / "go.mod"
    if go_mod.exists():
        return
    target.module_dir.mkdir(parents=True, exist_ok=True)
    replacements: list[str] = []
    if target.module == "k8s.io/kubernetes":
        replacements = staging_replacements(Path(_module_info(target)["GoMod"]).read_text(), target.version)
    go_mod.write_text(wrapper_go_mod(target, replacements))


def build(target: Target, progress: ProgressCallback | None = None) -> Path:
    """Build `target` unless all its binaries are cached; return the directory holding them."""
    if all(target.binary(name).exists() for _, name in target.binaries):
        return target.bin_dir
    _write_wrapper_module(target)
    total = len(_run_go(["list", "-deps", *target.packages], target.module_dir).split())
    with tempfile.TemporaryDirectory(dir=target.module_dir) as out:
        command = [_go(), "build", "-v", f"-ldflags={target.ldflags}", "-o", out + "/"]
        process = subprocess.Popen(
            [*command, *target.packages],
            cwd=target.module_dir,
            env={**os.environ, **GO_ENV},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stderr is not None
        compiled, tail = 0, list[str]()
        for line in process.stderr:
            tail = [*tail[-40:], line]
            if not line.startswith(("go: ", "#", "\t")):
                compiled += 1
                if progress:
                    progress(target.name, min(compiled, total), total)
        if process.wait() != 0:
            raise BuildError(f"building {target.name} v{target.version} failed:\n{''.join(tail)}")
        target.bin_dir.mkdir(parents=True, exist_ok=True)
        for package, name in target.binaries:
            os.replace(Path(out) / go_binary_name(package), target.binary(name))
    if progress:
        progress(target.name, total, total)
    return target.bin_dir


def go_binary_name(package: str) -> str:
    """The file name `go build -o DIR/` gives a main package (a trailing major version is skipped)."""
    elements = package.split("/")
    return elements[-2] if re.fullmatch(r"v\d+", elements[-1]) else elements[-1]


def kubectl_on_path_matches() -> str | None:
    """The kubectl on PATH if its minor version is within one of the server's, else None."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return None
    result = subprocess.run([kubectl, "version", "--client", "-o", "json"], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return None
    minor = re.match(r"\d+", json.loads(result.stdout)["clientVersion"]["minor"])
    if minor and abs(int(minor.group()) - kubernetes_minor()) <= 1:
        return kubectl
    return None


def ensure_helm(progress: ProgressCallback | None = None) -> Path:
    """The pinned helm binary (built on first use), which installs the charts of ClusterProfiles."""
    build(HELM, progress)
    return HELM.binary("helm")


def ensure_prometheus(progress: ProgressCallback | None = None) -> Path:
    """The pinned Prometheus binary (built on first use); `promtool` is built beside it."""
    build(PROMETHEUS, progress)
    return PROMETHEUS.binary("prometheus")


def module_source(target: Target) -> Path:
    """The read-only source tree of `target`'s module in Go's module cache (CRDs, pause.c are read from it)."""
    _write_wrapper_module(target)
    return Path(_module_info(target)["Dir"])


@dataclass(frozen=True)
class Binaries:
    etcd: Path
    kube_apiserver: Path
    kube_controller_manager: Path
    kubectl: Path


def ensure_binaries(progress: ProgressCallback | None = None) -> Binaries:
    """Locate (building them on first use) every binary the local control plane needs."""
    kubectl = kubectl_on_path_matches()
    kubernetes = kubernetes_target(with_kubectl=kubectl is None)
    build(ETCD, progress)
    build(kubernetes, progress)
    return Binaries(
        etcd=ETCD.binary("etcd"),
        kube_apiserver=kubernetes.binary("kube-apiserver"),
        kube_controller_manager=kubernetes.binary("kube-controller-manager"),
        kubectl=Path(kubectl) if kubectl else kubernetes.binary("kubectl"),
    )


@dataclass(frozen=True)
class NodeBinaries:
    """What a node of the local cluster runs besides Debian's containerd, runc and CNI plugins."""

    kubelet: Path
    kube_proxy: Path
    kube_scheduler: Path
    coredns: Path
    registry: Path


def ensure_node_binaries(progress: ProgressCallback | None = None) -> NodeBinaries:
    """Locate (building them on first use) the binaries of the local nodes and their registry."""
    for target in (KUBERNETES_NODE, COREDNS, DISTRIBUTION):
        build(target, progress)
    return NodeBinaries(
        kubelet=KUBERNETES_NODE.binary("kubelet"),
        kube_proxy=KUBERNETES_NODE.binary("kube-proxy"),
        kube_scheduler=KUBERNETES_NODE.binary("kube-scheduler"),
        coredns=COREDNS.binary("coredns"),
        registry=DISTRIBUTION.binary("registry"),
    )
