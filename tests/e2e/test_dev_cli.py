"""`kubetenancy dev` as a developer uses it: up (idempotent), status, env, kubeconfig, down (no leftovers)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubetenancy.localcluster import hostclean
from kubetenancy.localcluster.gobuild import Binaries
from kubetenancy.localcluster.processes import port_is_listening

pytestmark = pytest.mark.e2e


def processes_mentioning(text: str) -> list[int]:
    """Pids of running processes whose command line contains `text`."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if text.encode() in cmdline and int(proc.name) != os.getpid():
                found.append(int(proc.name))
    return found


@pytest.fixture
def dev(tmp_path: Path, binaries: Binaries) -> Iterator[tuple[Path, dict[str, str]]]:
    env = {**os.environ, "KUBETENANCY_STATE_DIR": str(tmp_path / "state")}
    yield tmp_path / "state", env
    subprocess.run([sys.executable, "-m", "kubetenancy", "dev", "down"], env=env, check=False)


def kubetenancy(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kubetenancy", *args], env=env, capture_output=True, text=True, check=False
    )


NODE_COMPONENTS = [
    "registry",
    "cluster-1/forwarder",
    "cluster-1/containerd",
    "cluster-1/kubelet",
    "cluster-1/kube-proxy",
    "cluster-1/coredns",
    "cluster-1/kube-scheduler",
    "cluster-1/image-hints",
]
COMPONENTS = [
    "etcd",
    "cluster-1/kube-apiserver",
    "cluster-1/kube-controller-manager",
    "aws-authenticator",
    "keycloak",
    *NODE_COMPONENTS,
    "operator",
    "prometheus",
    "apiserver",
    "console",
]
"""Every component `dev up` starts, in its order; the test kills each in turn."""


def leftovers(state_dir: Path, netns: str) -> dict[str, object]:
    """What a plane in `state_dir` could leave on the machine: processes, mounts, its network namespace and
    veth, cgroups, and host iptables chains."""
    # A mount is the plane's if its mount point or (bind mounts) its source is below the state directory.
    mounts = [line.split()[3:5] for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    chains = subprocess.run(["iptables-save"], capture_output=True, text=True, check=True).stdout
    return {
        "processes": processes_mentioning(str(state_dir)),
        "mounts": [m for m in mounts if any(path.startswith(str(state_dir)) for path in m)],
        "netns": (Path("/run/netns") / netns).exists(),
        "cgroups": [h.name for h in hostclean.hierarchies() if (h / netns).exists()],
        "iptables": sorted({line.split()[0] for line in chains.splitlines() if line.startswith(":KUBE")}),
    }


def test_dev_up_status_env_kubeconfig_down(dev: tuple[Path, dict[str, str]], binaries: Binaries) -> None:
    state_dir, env = dev
    host_chains_before = leftovers(state_dir, "none")["iptables"]
    up = kubetenancy(env, "dev", "up")
    assert up.returncode == 0, up.stderr
    state = json.loads((state_dir / "state.json").read_text())
    assert [p["name"] for p in state["processes"]] == COMPONENTS
    api_port = state["clusters"][0]["port"]
    netns = state["networks"]["cluster-1"]["netns"]
    # Off a terminal nothing is wrapped: the export line can be pasted as it is.
    admin = state_dir / "cluster-1" / "kubeconfigs" / "admin.kubeconfig"
    assert f"  export KUBECONFIG={admin}\n" in up.stderr
    assert "cluster-1-node: node IP 10.199." in up.stderr
    assert "  Prometheus (showback): http://127.0.0.1:" in up.stderr

    again = kubetenancy(env, "dev", "up")
    assert again.returncode == 0, again.stderr
    assert json.loads((state_dir / "state.json").read_text())["processes"] == state["processes"]

    status = kubetenancy(env, "dev", "status")
    assert status.returncode == 0
    assert str(state_dir / "logs" / "cluster-1-kubelet.log") in status.stderr
    assert kubetenancy(env, "dev", "env").stdout == f"export KUBECONFIG={admin}\n"
    assert kubetenancy(env, "dev", "kubeconfig", "--user", "alice").stdout.strip() == str(
        state_dir / "cluster-1" / "kubeconfigs" / "alice.kubeconfig"
    )
    unknown = kubetenancy(env, "dev", "kubeconfig", "--user", "nobody")
    assert unknown.returncode == 1
    assert 'no test user "nobody"' in unknown.stderr

    kubectl = [binaries.kubectl, f"--kubeconfig={admin}"]
    whoami = subprocess.run(
        [*kubectl, "auth", "whoami", "-o", "jsonpath={.status.userInfo.groups}"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "system:masters" in whoami.stdout
    assert "cluster-admins" in whoami.stdout
    ready = [*kubectl, "wait", "--for=condition=Ready", "node/cluster-1-node", "--timeout=10s"]
    subprocess.run(ready, check=True, capture_output=True)
    subprocess.run([*kubectl, "run", "web", "--image", "nginx"], check=True, capture_output=True)
    subprocess.run([*kubectl, "wait", "--for=condition=Ready", "pod/web", "--timeout=120s"], check=True)

    for _ in range(2):  # a second `dev down` finds nothing more to do and still succeeds
        down = kubetenancy(env, "dev", "down")
        assert down.returncode == 0, down.stderr
        assert leftovers(state_dir, netns) == {
            "processes": [], "mounts": [], "netns": False, "cgroups": [], "iptables": host_chains_before,
        }  # fmt: skip
    assert not port_is_listening(api_port)
    assert kubetenancy(env, "dev", "status").returncode == 1


def test_dev_up_restarts_only_what_died_and_keeps_the_data(
    dev: tuple[Path, dict[str, str]], binaries: Binaries
) -> None:
    state_dir, env = dev
    up = kubetenancy(env, "dev", "up")
    assert up.returncode == 0, up.stderr
    admin = state_dir / "cluster-1" / "kubeconfigs" / "admin.kubeconfig"
    kubectl = [str(binaries.kubectl), f"--kubeconfig={admin}"]
    subprocess.run([*kubectl, "create", "configmap", "kept", "--from-literal=a=b"], check=True, capture_output=True)
    subprocess.run([*kubectl, "run", "web", "--image", "nginx"], check=True, capture_output=True)
    subprocess.run([*kubectl, "wait", "--for=condition=Ready", "pod/web", "--timeout=120s"], check=True)
    pod_uid = subprocess.run(
        [*kubectl, "get", "pod", "web", "-o", "jsonpath={.metadata.uid}"], check=True, capture_output=True, text=True
    ).stdout

    for component in COMPONENTS:
        before = {p["name"]: p["pid"] for p in json.loads((state_dir / "state.json").read_text())["processes"]}
        os.kill(before[component], signal.SIGKILL)
        again = kubetenancy(env, "dev", "up")
        assert again.returncode == 0, again.stderr
        assert f"restarted {component}; the data is kept" in again.stderr
        after = {p["name"]: p["pid"] for p in json.loads((state_dir / "state.json").read_text())["processes"]}
        assert after[component] != before[component]
        assert {n: p for n, p in after.items() if n != component} == {n: p for n, p in before.items() if n != component}
        kept = subprocess.run([*kubectl, "get", "configmap", "kept", "-o", "jsonpath={.data.a}"], capture_output=True)
        assert kept.stdout == b"b", (component, kept.stderr)

    subprocess.run([*kubectl, "wait", "--for=condition=Ready", "pod/web", "--timeout=60s"], check=True)
    uid = subprocess.run([*kubectl, "get", "pod", "web", "-o", "jsonpath={.metadata.uid}"], capture_output=True)
    assert uid.stdout.decode() == pod_uid

    # Starting afresh is an explicit choice, and it discards the data.
    fresh = kubetenancy(env, "dev", "up", "--fresh")
    assert fresh.returncode == 0, fresh.stderr
    gone = subprocess.run([*kubectl, "get", "configmap", "kept"], capture_output=True, text=True)
    assert 'configmaps "kept" not found' in gone.stderr
    netns = json.loads((state_dir / "state.json").read_text())["networks"]["cluster-1"]["netns"]
    assert kubetenancy(env, "dev", "down").returncode == 0
    assert leftovers(state_dir, netns) == {"processes": [], "mounts": [], "netns": False, "cgroups": [], "iptables": []}
