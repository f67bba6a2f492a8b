"""The network of a local node: its own network namespace, a veth pair to the host, and two host routes.

Every node gets a *slot* k (1..250) from a machine-wide table under `/run/kubetenancy` (taken under a lock,
so the planes of `make run` and of a test session coexist), and with it:

- `10.199.k.0/30` on the veth pair: `.1` is the host's end, `.2` (the node IP) the namespace's `eth0`;
- `10.200.k.0/24` for pods (the CNI bridge lives in the namespace), routed by the host via the node IP;
- `10.201.k.0/24` for Services (kube-proxy's rules live in the namespace), routed the same way.

The namespace has no default route, so nothing in it can send to an address outside namespaces the run
created. A slot is taken while its namespace exists; a slot whose ranges overlap a route or address the
host already has is skipped. This module creates and deletes namespaces, links and routes; it starts no
long-running process.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import hashlib
import ipaddress
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

RUN_DIR = Path("/run/kubetenancy")
LOCK = Path("/run/lock/kubetenancy-nodes.lock")
"""Guards the slot table and the record of the host (`hostclean`). It outlives `RUN_DIR`, which goes with
the last node: a lock file removed while another plane waits on it would let two planes in at once. An
empty file in /run/lock, gone at the next boot."""
NETNS_DIR = Path("/run/netns")
SLOTS = range(1, 251)
CLONE_NEWNET = 0x40000000


class NetworkError(RuntimeError):
    """A node network could not be set up; the message says what is in the way."""


@dataclass(frozen=True)
class NodeNetwork:
    """The addresses of one node (see the module docstring for the plan)."""

    slot: int
    netns: str

    @property
    def host_ip(self) -> str:
        return f"10.199.{self.slot}.1"

    @property
    def node_ip(self) -> str:
        return f"10.199.{self.slot}.2"

    @property
    def link_cidr(self) -> str:
        return f"10.199.{self.slot}.0/30"

    @property
    def pod_cidr(self) -> str:
        return f"10.200.{self.slot}.0/24"

    @property
    def service_cidr(self) -> str:
        return f"10.201.{self.slot}.0/24"

    @property
    def kubernetes_service_ip(self) -> str:
        """The ClusterIP of the `kubernetes` Service: the first address of the Service range."""
        return f"10.201.{self.slot}.1"

    @property
    def host_link(self) -> str:
        return f"ktnode{self.slot}"

    @property
    def path(self) -> Path:
        return NETNS_DIR / self.netns


def netns_name(state_dir: Path, cluster: str) -> str:
    """A name unique to a plane's state directory and cluster, readable in `ip netns list`."""
    digest = hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:8]
    return f"kubetenancy-{digest}-{cluster}"


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise NetworkError(f"`ip {' '.join(args)}` failed: {result.stderr.strip()}")
    return result


@contextlib.contextmanager
def _slot_table() -> Iterator[Path]:
    """The slot directory, held under an exclusive lock for the duration of the block."""
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    with LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        slots = RUN_DIR / "slots"
        slots.mkdir(parents=True, exist_ok=True)
        yield slots


def _taken(slots: Path) -> dict[int, str]:
    """Slots whose namespace still exists, with the namespace's name."""
    taken = {}
    for entry in slots.iterdir():
        netns = entry.read_text().strip()
        if (NETNS_DIR / netns).exists():
            taken[int(entry.name)] = netns
        else:
            entry.unlink()
    return taken


def _host_networks() -> list[ipaddress.IPv4Network]:
    """Every IPv4 route destination and interface network of the host."""
    networks = []
    routes = json.loads(_ip("-j", "-4", "route", "show", "table", "all").stdout or "[]")
    for route in routes:
        destination = route.get("dst", "")
        if destination and destination != "default" and route.get("type", "unicast") == "unicast":
            networks.append(ipaddress.ip_network(destination, strict=False))
    for link in json.loads(_ip("-j", "-4", "addr").stdout or "[]"):
        for address in link.get("addr_info", []):
            networks.append(ipaddress.ip_network(f"{address['local']}/{address['prefixlen']}", strict=False))
    return [n for n in networks if isinstance(n, ipaddress.IPv4Network) and not n.is_loopback]


def _collides(network: NodeNetwork, host: list[ipaddress.IPv4Network]) -> bool:
    ours = [ipaddress.IPv4Network(c) for c in (network.link_cidr, network.pod_cidr, network.service_cidr)]
    return any(a.overlaps(b) for a in ours for b in host)


def create(netns: str, preferred: int | None = None, *, before_first: Callable[[], None]) -> NodeNetwork:
    """Take a free slot (`preferred` if it is free: addresses baked into a kept cluster stay the same) and
    set up the namespace, the veth pair, the addresses and the host routes.

    `before_first` runs, under the table's lock, when no node network of any plane exists yet: the moment
    to record the machine as it was (another plane cannot be making or removing its node meanwhile)."""
    with _slot_table() as slots:
        taken = _taken(slots)
        for slot, name in taken.items():
            if name == netns:
                return NodeNetwork(slot, netns)
        if not taken:
            before_first()
        host = _host_networks()
        candidates = ([preferred] if preferred else []) + [s for s in SLOTS if s != preferred]
        free = [s for s in candidates if s not in taken and not _collides(NodeNetwork(s, netns), host)]
        if preferred and free[:1] != [preferred]:
            raise NetworkError(
                f"the node network 10.199.{preferred}.0/30, 10.200.{preferred}.0/24 and 10.201.{preferred}.0/24 "
                f"that this cluster was made with is in use ({taken.get(preferred, 'by a host route')}): stop what "
                "uses it, or start this plane afresh with `kubetenancy dev up --fresh`"
            )
        if not free:
            raise NetworkError("no free node network under 10.199-201.0.0/16: run `ip netns list` to see who has them")
        network = NodeNetwork(free[0], netns)
        (slots / str(network.slot)).write_text(netns)
        try:
            _set_up(network)
        except BaseException:
            _tear_down(network)
            raise
        return network


def _set_up(network: NodeNetwork) -> None:
    link = network.host_link
    _ip("link", "del", link, check=False)
    _ip("netns", "add", network.netns)
    _ip("link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", network.netns)
    _ip("addr", "add", f"{network.host_ip}/30", "dev", link)
    _ip("link", "set", link, "up")
    _ip("-n", network.netns, "link", "set", "lo", "up")
    _ip("-n", network.netns, "addr", "add", f"{network.node_ip}/30", "dev", "eth0")
    _ip("-n", network.netns, "link", "set", "eth0", "up")
    for cidr in (network.pod_cidr, network.service_cidr):
        _ip("route", "add", cidr, "via", network.node_ip, "dev", link)
    # Pods route through the node's namespace; forwarding is a setting of that namespace alone.
    subprocess.run(
        ["ip", "netns", "exec", network.netns, "sysctl", "-qw", "net.ipv4.ip_forward=1"],
        check=True,
        capture_output=True,
    )


def _tear_down(network: NodeNetwork) -> None:
    if network.path.exists():
        _ip("netns", "del", network.netns, check=False)
    _ip("link", "del", network.host_link, check=False)  # gone with the namespace, unless a process still holds it


def delete(network: NodeNetwork, *, after_last: Callable[[], None]) -> None:
    """Remove the namespace (its interfaces, bridge, iptables rules and sysctls go with it) and free the slot.

    `after_last` runs, under the table's lock, when no node network of any plane is left: the moment to put
    the machine back as it was recorded."""
    with _slot_table() as slots:
        _tear_down(network)
        with contextlib.suppress(FileNotFoundError):
            (slots / str(network.slot)).unlink()
        if not _taken(slots):
            after_last()


def setns(path: Path) -> None:
    """Move the calling thread into the network namespace at `path` (a /run/netns entry or /proc/…/ns/net)."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"setns({path}): {os.strerror(error)}")
    finally:
        os.close(fd)


def entering(netns: str) -> Callable[[], None]:
    """A `preexec_fn` that runs the child in the named namespace (its mounts stay the host's)."""
    return lambda: setns(NETNS_DIR / netns)
