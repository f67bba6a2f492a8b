"""Detached processes are found again by pid and executable, and stopped for good."""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import pytest

from kubetenancy.localcluster.processes import Process, StartupError, spawn, wait_until


def test_spawned_process_runs_until_stopped(tmp_path: Path) -> None:
    sleep = shutil.which("sleep")
    assert sleep
    process = spawn("sleeper", [sleep, "60"], tmp_path / "sleeper.log")
    assert process.alive()
    assert Process.from_json(process.to_json()) == process
    process.stop()
    assert not process.alive()


def test_a_reused_pid_running_something_else_is_not_ours(tmp_path: Path) -> None:
    sleep = shutil.which("sleep")
    assert sleep
    process = spawn("sleeper", [sleep, "60"], tmp_path / "sleeper.log")
    impostor = Process(process.name, process.pid, "/usr/bin/not-what-we-started", process.log)
    assert not impostor.alive()
    impostor.stop()  # must not signal a process that is not ours
    assert process.alive()
    process.stop()


def test_stopping_a_component_whose_wrapper_was_killed_ends_its_children(tmp_path: Path) -> None:
    """As Keycloak's `kc.sh` runs java: the recorded process is the shell, the work is its child."""
    process = spawn("wrapper", ["/bin/sh", "-c", "sleep 300 & wait"], tmp_path / "wrapper.log")
    wait_until(process, lambda: bool(_children(process.pid)), 5, "running its child")
    child = _children(process.pid)[0]
    os.kill(process.pid, signal.SIGKILL)
    wait_until_gone = time.monotonic() + 5
    while process.alive() and time.monotonic() < wait_until_gone:
        time.sleep(0.05)
    assert not process.alive()
    assert _running(child), "the child outlives its wrapper"
    process.stop()
    assert not _running(child)


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in found.read_text().split()] if found.exists() else []


def test_wait_reports_an_early_exit_with_the_log(tmp_path: Path) -> None:
    sh = shutil.which("sh")
    assert sh
    process = spawn("failing", [sh, "-c", "echo bad flag >&2; exit 3"], tmp_path / "failing.log")
    with pytest.raises(StartupError, match=r"(?s)failing exited before it was ready.*bad flag"):
        wait_until(process, lambda: False, 10, "ready")
