"""What a node changes on the host outside its network namespace, and how that is undone.

- cgroups: kubelet's `cgroupRoot` is `/<name>` in every cgroup v1 hierarchy; containerd (hence its shims
  and every container) runs below it. Teardown kills what is left there and removes the tree.
- mounts: kubelet's volumes, containerd's snapshots and the pods' namespace files are mounted under the
  node's directory; teardown unmounts every mount below it, deepest first.
- host settings kubelet changes (`vm.overcommit_memory`, `kernel.panic`, …) and directories kubelet and
  containerd create at fixed paths are recorded before the first node of the machine starts, and put back
  when the last node of the machine stops (nodes of several planes may run at once).

This module changes only those things; it starts no process.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import time
from pathlib import Path

from kubetenancy.localcluster.netns import RUN_DIR

CGROUP_ROOT = Path("/sys/fs/cgroup")
HOST_RECORD = RUN_DIR / "host.json"
KUBELET_SYSCTLS = (
    "vm/overcommit_memory",
    "vm/panic_on_oom",
    "kernel/panic",
    "kernel/panic_on_oops",
    "kernel/keys/root_maxkeys",
    "kernel/keys/root_maxbytes",
)
FIXED_PATHS = (
    "/var/lib/kubelet",
    "/var/log/containers",
    "/var/log/pods",
    "/var/lib/cni",
    "/run/containerd",
    "/run/netns",
    "/var/run/netns",
)
MNT_DETACH = 2


def hierarchies() -> list[Path]:
    """The mounted cgroup v1 hierarchies (one path per hierarchy, however many names point at it)."""
    seen: dict[str, Path] = {}
    for path in sorted(CGROUP_ROOT.iterdir()):
        if path.name != "unified" and (path / "cgroup.procs").exists():
            seen.setdefault(os.path.realpath(path), path)
    return list(seen.values())


def make_cgroups(name: str, *children: str) -> None:
    """Create `/<name>/<child>` in every hierarchy (cpuset ones get their parent's cpus and mems)."""
    for hierarchy in hierarchies():
        for child in ("", *children):
            path = hierarchy / name / child
            path.mkdir(parents=True, exist_ok=True)
            for setting in ("cpuset.cpus", "cpuset.mems"):
                if (path / setting).exists() and not (path / setting).read_text().strip():
                    (path / setting).write_text((path.parent / setting).read_text())


def join_cgroup(name: str, child: str) -> None:
    """Move the calling process into `/<name>/<child>` of every hierarchy (for a `preexec_fn`)."""
    for hierarchy in hierarchies():
        (hierarchy / name / child / "cgroup.procs").write_text(str(os.getpid()))


def _pids(tree: Path) -> set[int]:
    pids: set[int] = set()
    for directory, _, _ in os.walk(tree):
        with contextlib.suppress(OSError):
            pids |= {int(p) for p in (Path(directory) / "cgroup.procs").read_text().split()}
    return pids


def remove_cgroups(name: str, timeout: float = 20.0) -> None:
    """Kill every process left under `/<name>` and remove the cgroups, deepest first."""
    trees = [h / name for h in hierarchies() if (h / name).exists()]
    deadline = time.monotonic() + timeout
    while (pids := set().union(*(_pids(t) for t in trees))) and time.monotonic() < deadline:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)
    for tree in trees:
        for directory, _, _ in os.walk(tree, topdown=False):
            with contextlib.suppress(OSError):
                os.rmdir(directory)


def _mount_points() -> list[str]:
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        raw = line.split()[4]
        points.append(raw.encode().decode("unicode_escape"))
    return points


def unmount_below(directory: Path) -> None:
    """Detach every mount at or below `directory`, deepest first."""
    libc = ctypes.CDLL(None, use_errno=True)
    prefix = str(directory.resolve())
    for _ in range(100):  # mounts may be stacked (kubelet bind-mounts its root onto itself at each start)
        below = [p for p in _mount_points() if p == prefix or p.startswith(prefix + "/")]
        if not below:
            return
        for point in sorted(set(below), key=len, reverse=True):
            libc.umount2(point.encode(), MNT_DETACH)


def remove_unmounted(directory: Path) -> None:
    """Unmount everything below `directory`, then remove it (never through a mount that would not go)."""
    unmount_below(directory)
    prefix = str(directory.resolve())
    if not any(p == prefix or p.startswith(prefix + "/") for p in _mount_points()):
        shutil.rmtree(directory, ignore_errors=True)


def remove_links_into(directory: Path, links_dir: Path = Path("/var/log/containers")) -> None:
    """Remove kubelet's log symlinks that point into `directory` (the node's pod logs)."""
    if not links_dir.is_dir():
        return
    prefix = str(directory.resolve())
    for link in links_dir.iterdir():
        if link.is_symlink() and os.readlink(link).startswith(prefix):
            link.unlink()


def record_host() -> None:
    """Before the machine's first node starts: remember the settings and paths nodes change."""
    if HOST_RECORD.exists():
        return
    sysctls = {name: (Path("/proc/sys") / name).read_text().strip() for name in KUBELET_SYSCTLS}
    absent = [path for path in FIXED_PATHS if not os.path.lexists(path)]
    HOST_RECORD.parent.mkdir(parents=True, exist_ok=True)
    HOST_RECORD.write_text(json.dumps({"sysctls": sysctls, "absent": absent}, indent=2))


def restore_host() -> None:
    """After the machine's last node stopped: put the settings back, remove the paths nodes made, and the
    slot table itself."""
    try:
        record = json.loads(HOST_RECORD.read_text())
    except FileNotFoundError:  # put back already (a second `dev down`)
        record = {"sysctls": {}, "absent": []}
    for name, value in record["sysctls"].items():
        with contextlib.suppress(OSError):
            (Path("/proc/sys") / name).write_text(value)
    for path in record["absent"]:
        if os.path.islink(path):
            os.unlink(path)
        elif path.endswith("/netns"):
            if os.path.isdir(path) and not os.listdir(path):  # other software may have made namespaces since
                unmount_below(Path(path))  # `ip netns` made it a bind mount of itself
                with contextlib.suppress(OSError):
                    os.rmdir(path)
        elif os.path.isdir(path):
            unmount_below(Path(path))
            shutil.rmtree(path, ignore_errors=True)
    HOST_RECORD.unlink(missing_ok=True)
    shutil.rmtree(RUN_DIR, ignore_errors=True)  # the slot table: no node of any plane is left
