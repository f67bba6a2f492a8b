"""Install and uninstall Helm charts in a managed cluster by running the real `helm` binary.

Helm is an upstream Go tool: kubetenancy builds a pinned release from Go modules (`localcluster.gobuild`)
and runs it here with a kubeconfig for the target cluster, which decides whose rights the release gets
(the platform admin's or a tenant admin's). Each run has its own temporary kubeconfig file (mode 0600,
deleted afterwards); Helm's caches live in the runner's directory. A run that is cancelled (the
per-cluster timeout) kills its process. This module never talks to the API server itself.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from kubetenancy.cluster_model import HelmChart
from kubetenancy.multicluster.profiles import chart_reference

HISTORY_MAX = 2
"""Sveltos' default maxHistory."""


class HelmFailed(RuntimeError):
    """helm exited non-zero; the message is what it said."""


class Helm:
    def __init__(self, binary: Path | None, work_dir: Path) -> None:
        """`binary`: the helm executable (None: not available, every chart fails with a clear message)."""
        self.binary = binary
        self.work_dir = work_dir
        work_dir.mkdir(parents=True, exist_ok=True)

    async def install(self, kubeconfig: Mapping[str, Any], chart: HelmChart) -> None:
        """`helm upgrade --install`: installs the release or brings it to this chart version and values."""
        name, repository = chart_reference(chart)
        args = ["upgrade", "--install", chart.release_name, name, "--version", chart.chart_version]
        args += ["--namespace", chart.release_namespace, "--create-namespace", f"--history-max={HISTORY_MAX}"]
        if repository is not None:
            args += ["--repo", repository]
        await self._run(args, kubeconfig, values=chart.values)

    async def uninstall(self, kubeconfig: Mapping[str, Any], namespace: str, release: str) -> None:
        await self._run(["uninstall", release, "--namespace", namespace, "--ignore-not-found"], kubeconfig)

    async def _run(self, args: list[str], kubeconfig: Mapping[str, Any], values: str | None = None) -> str:
        if self.binary is None or not self.binary.exists():
            raise HelmFailed(
                f"helm is not available ({self.binary or 'not configured'}): run `kubetenancy dev build` or "
                "start the operator with --helm PATH"
            )
        with tempfile.TemporaryDirectory(dir=self.work_dir) as scratch:
            config_file = Path(scratch) / "kubeconfig"
            config_file.write_text(yaml.safe_dump(dict(kubeconfig)))
            config_file.chmod(0o600)
            argv = [str(self.binary), *args, "--kubeconfig", str(config_file)]
            if values:
                values_file = Path(scratch) / "values.yaml"
                values_file.write_text(values)
                argv += ["--values", str(values_file)]
            homes = {f"HELM_{part}_HOME": str(self.work_dir / part.lower()) for part in ("CACHE", "CONFIG", "DATA")}
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env={**os.environ, **homes, "KUBECONFIG": str(config_file)},
            )
            try:
                stdout, stderr = await process.communicate()
            except BaseException:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
                raise
        if process.returncode != 0:
            said = stderr.decode(errors="replace").strip().replace("Error: ", "", 1)
            raise HelmFailed(f"helm {args[0]} {args[1] if args[0] == 'uninstall' else args[2]} failed: {said}")
        return stdout.decode(errors="replace")
