"""`kubetenancy dev` as a developer uses it: up (idempotent), status, env, kubeconfig, down (no leftovers)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

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


def test_dev_up_status_env_kubeconfig_down(dev: tuple[Path, dict[str, str]], binaries: Binaries) -> None:
    state_dir, env = dev
    up = kubetenancy(env, "dev", "up")
    assert up.returncode == 0, up.stderr
    state = json.loads((state_dir / "state.json").read_text())
    names = [p["name"] for p in state["processes"]]
    assert names == [
        "etcd",
        "cluster-1/kube-apiserver",
        "cluster-1/kube-controller-manager",
        "aws-authenticator",
        "operator",
        "apiserver",
    ]
    api_port = state["clusters"][0]["port"]

    again = kubetenancy(env, "dev", "up")
    assert again.returncode == 0, again.stderr
    assert json.loads((state_dir / "state.json").read_text())["processes"] == state["processes"]

    assert kubetenancy(env, "dev", "status").returncode == 0
    admin = state_dir / "cluster-1" / "kubeconfigs" / "admin.kubeconfig"
    assert kubetenancy(env, "dev", "env").stdout == f"export KUBECONFIG={admin}\n"
    assert kubetenancy(env, "dev", "kubeconfig", "--user", "alice").stdout.strip() == str(
        state_dir / "cluster-1" / "kubeconfigs" / "alice.kubeconfig"
    )
    unknown = kubetenancy(env, "dev", "kubeconfig", "--user", "nobody")
    assert unknown.returncode == 1
    assert 'no test user "nobody"' in unknown.stderr

    whoami = subprocess.run(
        [
            binaries.kubectl,
            f"--kubeconfig={admin}",
            "auth",
            "whoami",
            "-o",
            "jsonpath={.status.userInfo.groups}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "system:masters" in whoami.stdout
    assert "cluster-admins" in whoami.stdout

    down = kubetenancy(env, "dev", "down")
    assert down.returncode == 0, down.stderr
    assert processes_mentioning(str(state_dir)) == []
    assert not port_is_listening(api_port)
    assert kubetenancy(env, "dev", "status").returncode == 1
