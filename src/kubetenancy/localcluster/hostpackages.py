"""Debian packages a local node needs from the machine, installed with apt-get when missing.

containerd, runc and the CNI plugins run the pods; mmdebstrap, gcc and libc6-dev build the images;
iptables (kube-proxy, portmap) and iproute2 (the node's network namespace) set up networking; util-linux
and procps are used to enter namespaces and set their sysctls. As root they are installed (about 20 s);
otherwise the error says the one command to run. This module installs packages; it configures nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

PACKAGES = {
    "containerd": "/usr/bin/containerd",
    "runc": "/usr/sbin/runc",
    "containernetworking-plugins": "/usr/lib/cni/bridge",
    "mmdebstrap": "/usr/bin/mmdebstrap",
    "gcc": "/usr/bin/gcc",
    "libc6-dev": "/usr/lib/x86_64-linux-gnu/libc.a",
    "iptables": "/usr/sbin/iptables",
    "iproute2": "/usr/sbin/ip",
    "procps": "/usr/sbin/sysctl",
}
"""Debian package → a file it installs (its presence means the package is there)."""


class MissingPackages(RuntimeError):
    """Packages are missing and cannot be installed from here; the message says how to install them."""


def missing() -> list[str]:
    return [package for package, path in PACKAGES.items() if not Path(path).exists()]


def ensure() -> list[str]:
    """Install the missing packages (as root) and return them; raise with the command to run otherwise."""
    needed = missing()
    if not needed:
        return []
    command = ["apt-get", "install", "-y", "--no-install-recommends", *needed]
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise MissingPackages(
            f"a local node needs Debian packages that are missing: run `sudo {' '.join(command)}` "
            "(or start the plane without a node: `kubetenancy dev up --no-node`)"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if install.returncode != 0:
        update = subprocess.run(["apt-get", "update"], env=env, capture_output=True, text=True, check=False)
        install = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if update.returncode != 0 or install.returncode != 0:
            raise MissingPackages(f"`{' '.join(command)}` failed:\n{(install.stderr or update.stderr)[-2000:]}")
    return needed
