"""The examples `make run` applies (its EXAMPLES) apply cleanly with kubectl, and are served."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from kubetenancy.localcluster.controlplane import Cluster
from kubetenancy.localcluster.gobuild import Binaries

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).parents[2]
MAKE_RUN_EXAMPLES = [
    ROOT / folder
    for line in (ROOT / "Makefile").read_text().splitlines()
    if line.startswith("EXAMPLES :=")
    for folder in line.split(":=", 1)[1].split()
]
KIOSK = ROOT / "examples" / "kiosk-on-eks" / "platform"


def kubectl(binaries: Binaries, cluster: Cluster, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binaries.kubectl, f"--kubeconfig={cluster.kubeconfig()}", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_examples_apply_and_are_served(apiserver: object, cluster: Cluster, binaries: Binaries) -> None:
    assert KIOSK in MAKE_RUN_EXAMPLES
    applied = [kubectl(binaries, cluster, "apply", "-R", "-f", folder) for folder in MAKE_RUN_EXAMPLES]
    assert all(a.returncode == 0 for a in applied), [a.stderr for a in applied]
    assert "quota.tenantoperator.stakater.com/small" in applied[0].stdout
    assert "account.tenancy.kiosk.sh/redis-account" in applied[2].stdout
    # The Kiosk walkthrough starts from an empty cluster: leave none of its objects behind.
    removed = kubectl(binaries, cluster, "delete", "-R", "-f", KIOSK, "--wait")
    assert removed.returncode == 0, removed.stderr

    quota = json.loads(kubectl(binaries, cluster, "get", "quota", "small", "-o", "json").stdout)
    assert quota["spec"]["resourcequota"]["hard"] == {"configmaps": "10"}
    assert quota["spec"]["limitrange"]["limits"] == [
        {"type": "Container", "max": {"cpu": "800m"}, "min": {"cpu": "200m"}}
    ]

    listed = kubectl(binaries, cluster, "get", "quotas")
    assert listed.stdout.splitlines()[0].split() == ["NAME", "CPU", "MEMORY", "AGE"]
