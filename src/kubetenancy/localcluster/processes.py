"""Start, probe and stop the control plane's processes.

Processes run in their own session (so `kubetenancy dev up` can return while they keep running) and are
remembered by pid plus executable, so a later `dev down` never signals a recycled pid that now belongs to
something else. This module knows nothing about what the processes are.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kubetenancy.localcluster.hostclean import join_cgroup
from kubetenancy.localcluster.netns import NETNS_DIR, setns


class StartupError(RuntimeError):
    """A component did not become ready; the message names it and points at its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass(frozen=True)
class Process:
    """A started component: enough to find it again from another process, and to start it again."""

    name: str
    pid: int
    executable: str
    log: str
    argv: tuple[str, ...] = ()
    netns: str | None = None
    """The network namespace (a name under /run/netns) it runs in; None: the host's."""
    cgroup: str | None = None
    """`NAME/CHILD`: the cgroup (in every v1 hierarchy) it runs in; None: the caller's."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Process:
        return cls(**{**data, "argv": tuple(data.get("argv", ()))})

    def restarted(self) -> Process:
        """The same command started again, in the same namespace and cgroup, logging to the same file."""
        return spawn(self.name, self.argv, Path(self.log), netns=self.netns, cgroup=self.cgroup)

    def alive(self) -> bool:
        # cmdline reads empty for a moment right after exec: read again before trusting the pid alone.
        for _ in range(50):
            try:
                cmdline = Path(f"/proc/{self.pid}/cmdline").read_bytes()
                stat = Path(f"/proc/{self.pid}/stat").read_text()
            except OSError:
                return False
            if _fields(stat)[0] == "Z":
                return False  # exited; only waits for its parent to reap it
            if cmdline:
                # A different program under the same pid means the pid was reused.
                return cmdline.split(b"\0", 1)[0].decode() == self.executable
            time.sleep(0.002)
        return True

    def log_tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(Path(self.log).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, grace_seconds: float = 10.0) -> None:
        """SIGTERM the process group, then SIGKILL it if it is still there after the grace period. A group
        whose first process is gone may still hold its children (Keycloak's java under a killed `kc.sh`):
        they are killed at once. (A pid now running another program is left alone; while a group still
        carries a pid, Linux gives that pid to no new process.)"""
        if not self.alive():
            if self._exited():
                self._kill_leftovers()
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        while self.alive() and time.monotonic() < deadline:
            _reap(self.pid)
            time.sleep(0.05)
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            while self.alive():
                _reap(self.pid)
                time.sleep(0.05)
        _reap(self.pid)

    def _exited(self) -> bool:
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text()
        except OSError:
            return True
        return _fields(stat)[0] == "Z"

    def _kill_leftovers(self) -> None:
        deadline = time.monotonic() + 10
        while _running_in_group(self.pid) and time.monotonic() < deadline:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)
            time.sleep(0.05)


def _fields(stat: str) -> list[str]:
    """The fields of /proc/PID/stat after the command name (state, parent, group, …)."""
    return stat.rsplit(")", 1)[1].split()


def _running_in_group(pgid: int) -> list[int]:
    """Processes of the group that still run (zombies only wait for a parent to collect them)."""
    running = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _, group = _fields(stat.read_text())[:3]
        except (OSError, ValueError):
            continue
        if state != "Z" and int(group) == pgid:
            running.append(int(stat.parent.name))
    return running


def _reap(pid: int) -> None:
    """Collect the exit status if we are the parent (otherwise init does)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def spawn(
    name: str,
    argv: Sequence[str | Path],
    log: Path,
    *,
    netns: str | None = None,
    cgroup: str | None = None,
    env: dict[str, str] | None = None,
) -> Process:
    """Start `argv` detached in its own session (in `netns` and `cgroup` if given); stdout and stderr go
    to `log`, which is appended to (a restarted component keeps its earlier lines)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    command = tuple(str(a) for a in argv)

    def enter() -> None:
        if cgroup is not None:
            join_cgroup(*cgroup.split("/", 1))
        if netns is not None:
            setns(NETNS_DIR / netns)

    with log.open("ab") as out:
        popen = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
            preexec_fn=enter if netns or cgroup else None,
        )
    return Process(name, popen.pid, command[0], str(log), command, netns, cgroup)


def wait_until(process: Process, ready: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> None:
    """Poll `ready` until it is true; fail early, with the log's tail, if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.alive():
            raise StartupError(
                f"{process.name} exited before it was {what}; last lines of {process.log}:\n{process.log_tail()}"
            )
        if ready():
            return
        time.sleep(interval)
    raise StartupError(
        f"{process.name} was not {what} within {timeout:.0f}s; last lines of {process.log}:\n{process.log_tail()}"
    )


def http_ok(url: str, context: ssl.SSLContext | None = None) -> bool:
    """True when GET `url` answers 200 within a second."""
    try:
        with urllib.request.urlopen(url, timeout=1, context=context) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ssl.SSLError):
        return False
