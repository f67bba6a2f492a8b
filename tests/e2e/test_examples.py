"""Every manifest in examples/ applies cleanly with kubectl, as `make run` applies it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from kubetenancy.localcluster.controlplane import Cluster
from kubetenancy.localcluster.gobuild import Binaries

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).parents[2] / "examples"


def kubectl(binaries: Binaries, cluster: Cluster, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binaries.kubectl, f"--kubeconfig={cluster.kubeconfig()}", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_examples_apply_and_are_served(operator: str, cluster: Cluster, binaries: Binaries) -> None:
    applied = kubectl(binaries, cluster, "apply", "-R", "-f", EXAMPLES)
    assert applied.returncode == 0, applied.stderr
    assert "quota.tenantoperator.stakater.com/small" in applied.stdout

    quota = json.loads(kubectl(binaries, cluster, "get", "quota", "small", "-o", "json").stdout)
    assert quota["spec"]["resourcequota"]["hard"] == {"configmaps": "10"}
    assert quota["spec"]["limitrange"]["limits"] == [
        {"type": "Container", "max": {"cpu": "800m"}, "min": {"cpu": "200m"}}
    ]

    listed = kubectl(binaries, cluster, "get", "quotas")
    assert listed.stdout.splitlines()[0].split() == ["NAME", "CPU", "MEMORY", "AGE"]
