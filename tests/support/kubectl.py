"""kubectl as the walkthroughs' users run it: with their own kubeconfig (token) or the admin's."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from kubetenancy.localcluster.controlplane import Cluster
from kubetenancy.localcluster.gobuild import Binaries


@dataclass(frozen=True)
class Kubectl:
    binaries: Binaries
    cluster: Cluster

    def __call__(self, *args: str | Path, user: str | None = None, stdin: str | None = None) -> tuple[int, str]:
        """Run kubectl; return its exit code and what a person sees (stdout then stderr)."""
        result = subprocess.run(
            [self.binaries.kubectl, f"--kubeconfig={self.cluster.kubeconfig(user)}", *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        return result.returncode, (result.stdout + result.stderr).strip()

    def ok(self, *args: str | Path, user: str | None = None, stdin: str | None = None) -> str:
        code, output = self(*args, user=user, stdin=stdin)
        assert code == 0, output
        return output

    def running(self, pod: str, namespace: str, user: str | None = None) -> str:
        """Wait until the pod is Ready (a node runs it); return its phase as `user` reads it."""
        code, output = self("wait", "--for=condition=Ready", f"pod/{pod}", "-n", namespace, "--timeout=110s")
        assert code == 0, f"{output}\n{self('describe', 'pod', pod, '-n', namespace)[1]}"
        return self.ok("get", "pod", pod, "-n", namespace, "-o", "jsonpath={.status.phase}", user=user)
