"""Detached processes are found again by pid and executable, and stopped for good."""

from __future__ import annotations

import shutil
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


def test_wait_reports_an_early_exit_with_the_log(tmp_path: Path) -> None:
    sh = shutil.which("sh")
    assert sh
    process = spawn("failing", [sh, "-c", "echo bad flag >&2; exit 3"], tmp_path / "failing.log")
    with pytest.raises(StartupError, match=r"(?s)failing exited before it was ready.*bad flag"):
        wait_until(process, lambda: False, 10, "ready")
