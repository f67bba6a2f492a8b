"""A kubelet node for one local cluster: containerd, kubelet, kube-proxy and CoreDNS in the node's network
namespace, a forwarder that lets them (and the pods) reach the host's loopback API server and registry,
and a kube-scheduler and the image hints (`image_hints`) on the host.

`Node.processes()` starts the components in order and returns them; `Node.wait_ready()` waits for the
Node object to be Ready and for cluster DNS; `Node.clean_up()` undoes, after its processes are stopped,
what they left on the machine (cgroups, mounts, the namespace). This module writes the node's files and
runs its processes; it creates no Kubernetes objects (kubelet registers its own Node).
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from kubetenancy import pki
from kubetenancy.localcluster import hostclean, kubeconfig, netns, nodeconfig
from kubetenancy.localcluster.gobuild import NodeBinaries
from kubetenancy.localcluster.netns import NodeNetwork
from kubetenancy.localcluster.processes import Process, StartupError, http_ok, spawn, wait_until

READY_TIMEOUT = 90.0
CONTAINERD = "/usr/bin/containerd"
IMAGE_HINTS = "image-hints"


@dataclass(frozen=True)
class Node:
    """The node of cluster `cluster` (its API server on 127.0.0.1:`apiserver_port`)."""

    cluster: str
    apiserver_port: int
    registry_port: int
    network: NodeNetwork
    state_dir: Path

    @property
    def name(self) -> str:
        return f"{self.cluster}-node"

    @property
    def layout(self) -> nodeconfig.NodeLayout:
        return nodeconfig.NodeLayout(self.state_dir / self.cluster / "node", netns.RUN_DIR / f"node{self.network.slot}")

    @property
    def pki_dir(self) -> Path:
        return self.state_dir / "pki"

    @property
    def cgroup(self) -> str:
        return self.network.netns

    @property
    def server(self) -> str:
        """The API server as the node and its pods' forwarder see it."""
        return f"https://{self.network.node_ip}:{self.apiserver_port}"

    def _log(self, component: str) -> Path:
        return self.state_dir / "logs" / f"{self.cluster}-{component}.log"

    # -- files --------------------------------------------------------------------------------

    def _client_kubeconfig(self, user: str, common_name: str, groups: tuple[str, ...], server: str) -> Path:
        ca = pki.KeyPair.read(self.pki_dir, "ca")
        stem = f"{self.cluster}-{user}"
        cert = pki.issue(ca, common_name, organizations=groups, client=True).write(self.pki_dir, stem)
        path = self.state_dir / self.cluster / "kubeconfigs" / f"{user}.kubeconfig"
        return kubeconfig.write(
            path, kubeconfig.kubeconfig(self.cluster, server, self.pki_dir / "ca.crt", user, client_cert=cert)
        )

    def write_files(self) -> None:
        """Configuration and credentials of every component (idempotent; run before each start)."""
        layout, network = self.layout, self.network
        for directory in (layout.cni_conf_dir, layout.registry_hosts, layout.kubelet_dir / "manifests"):
            directory.mkdir(parents=True, exist_ok=True)
        layout.containerd_config.write_text(nodeconfig.containerd_config(layout))
        registry = f"http://{network.node_ip}:{self.registry_port}"
        for name in (*nodeconfig.MIRRORED_REGISTRIES, nodeconfig.UNMIRRORED):
            hosts = layout.registry_hosts / ("_default" if name == nodeconfig.UNMIRRORED else name) / "hosts.toml"
            hosts.parent.mkdir(parents=True, exist_ok=True)
            hosts.write_text(nodeconfig.registry_hosts(name, registry))
        (layout.cni_conf_dir / "10-kubetenancy.conflist").write_text(nodeconfig.cni_network(network, layout))
        ca = pki.KeyPair.read(self.pki_dir, "ca")
        serving = pki.issue(ca, self.name, hosts=(network.node_ip, self.name), server=True)
        cert = serving.write(self.pki_dir, f"{self.cluster}-kubelet-serving")
        (layout.kubelet_dir / "resolv.conf").write_text("# no upstream resolvers: outside names do not resolve\n")
        (layout.kubelet_dir / "config.yaml").write_text(
            nodeconfig.kubelet_config(
                network, layout, ca_file=self.pki_dir / "ca.crt", cert=cert, cgroup_root=f"/{self.cgroup}"
            )
        )
        self._client_kubeconfig("kubelet", f"system:node:{self.name}", ("system:nodes",), self.server)
        proxy = self._client_kubeconfig("kube-proxy", "system:kube-proxy", (), self.server)
        (layout.directory / "kube-proxy.yaml").write_text(nodeconfig.kube_proxy_config(network, proxy, self.name))
        # CoreDNS watches Services, EndpointSlices and Namespaces; no bootstrap role has all three.
        dns = self._client_kubeconfig("coredns", "system:coredns", ("system:masters",), self.server)
        (layout.directory / "Corefile").write_text(nodeconfig.corefile(network, dns))
        local = f"https://127.0.0.1:{self.apiserver_port}"
        self._client_kubeconfig("kube-scheduler", "system:kube-scheduler", (), local)
        # The hints watch every pod and post Events; a dev-plane helper, like CoreDNS above.
        self._client_kubeconfig(IMAGE_HINTS, f"kubetenancy:{IMAGE_HINTS}", ("system:masters",), local)

    # -- processes ----------------------------------------------------------------------------

    def processes(self, binaries: NodeBinaries) -> list[Process]:
        """Start every component, each once its dependencies answer; return them in start order."""
        self.prepare_host()
        started: list[Process] = []
        try:
            for start in (
                self._forwarder,
                self._containerd,
                partial(self._kubelet, binaries),
                partial(self._kube_proxy, binaries),
                partial(self._coredns, binaries),
                partial(self._scheduler, binaries),
                self._image_hints,
            ):
                started.append(start())
        except BaseException:
            for process in reversed(started):
                process.stop()
            raise
        return started

    def prepare_host(self) -> None:
        """The node's cgroups, and its kubelet root bind-mounted at a short path (kubelet makes sockets
        below it, and a socket path has at most 104 characters)."""
        hostclean.make_cgroups(self.cgroup, "runtime", "node")
        root, short = self.layout.kubelet_dir / "root", self.layout.kubelet_root
        for directory in (root, short):
            directory.mkdir(parents=True, exist_ok=True)
        if not os.path.ismount(short):
            subprocess.run(["mount", "--bind", str(root), str(short)], check=True, capture_output=True)

    def _in_node(
        self, component: str, argv: list[str | Path], child: str = "node", *, in_namespace: bool = True
    ) -> Process:
        return spawn(
            f"{self.cluster}/{component}",
            argv,
            self._log(component),
            netns=self.network.netns if in_namespace else None,
            cgroup=f"{self.cgroup}/{child}",
        )

    def _forwarder(self) -> Process:
        node_ip, ports = self.network.node_ip, [str(self.apiserver_port), str(self.registry_port)]
        forwarder: list[str | Path] = [sys.executable, "-m", "kubetenancy.localcluster.forwarder", self.network.netns]
        forwarder += [node_ip, *ports]
        # It runs in the host's namespace and enters the node's only to open its listening sockets.
        process = self._in_node("forwarder", forwarder, in_namespace=False)
        wait_until(process, partial(http_ok, f"http://{node_ip}:{self.registry_port}/v2/"), 30, "forwarding")
        return process

    def _containerd(self) -> Process:
        process = self._in_node("containerd", [CONTAINERD, "--config", self.layout.containerd_config], "runtime")
        wait_until(process, self.layout.containerd_socket.exists, 30, "listening")
        return process

    def _kubelet(self, binaries: NodeBinaries) -> Process:
        kubelet_dir = self.layout.kubelet_dir
        return self._in_node(
            "kubelet",
            [
                binaries.kubelet,
                f"--config={kubelet_dir / 'config.yaml'}",
                f"--kubeconfig={self.state_dir / self.cluster / 'kubeconfigs' / 'kubelet.kubeconfig'}",
                f"--root-dir={self.layout.kubelet_root}",
                f"--cert-dir={kubelet_dir / 'certs'}",
                f"--hostname-override={self.name}",
                f"--node-ip={self.network.node_ip}",
                "--v=1",
            ],
        )

    def _kube_proxy(self, binaries: NodeBinaries) -> Process:
        return self._in_node(
            "kube-proxy", [binaries.kube_proxy, f"--config={self.layout.directory / 'kube-proxy.yaml'}"]
        )

    def _coredns(self, binaries: NodeBinaries) -> Process:
        return self._in_node("coredns", [binaries.coredns, "-conf", self.layout.directory / "Corefile"])

    def _scheduler(self, binaries: NodeBinaries) -> Process:
        return spawn(
            f"{self.cluster}/kube-scheduler",
            [
                binaries.kube_scheduler,
                f"--kubeconfig={self.state_dir / self.cluster / 'kubeconfigs' / 'kube-scheduler.kubeconfig'}",
                "--leader-elect=false",
                "--secure-port=0",
                "--v=1",
            ],
            self._log("kube-scheduler"),
        )

    def _image_hints(self) -> Process:
        return spawn(
            f"{self.cluster}/{IMAGE_HINTS}",
            [
                sys.executable, "-m", "kubetenancy.localcluster.image_hints",
                self.state_dir / self.cluster / "kubeconfigs" / f"{IMAGE_HINTS}.kubeconfig",
                f"http://127.0.0.1:{self.registry_port}",
            ],
            self._log(IMAGE_HINTS),
        )  # fmt: skip

    # -- readiness and clean-up ---------------------------------------------------------------

    def _node_ready(self, context: ssl.SSLContext) -> bool:
        url = f"https://127.0.0.1:{self.apiserver_port}/api/v1/nodes/{self.name}"
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as response:
                node = json.load(response)
        except (OSError, ValueError):
            return False
        conditions = node.get("status", {}).get("conditions", [])
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

    def wait_ready(self, started: list[Process]) -> None:
        """Until the Node is Ready and the cluster DNS answers; a component that dies meanwhile fails it."""
        by_name = {p.name.split("/", 1)[1]: p for p in started}
        context = ssl.create_default_context(cafile=self.pki_dir / "ca.crt")
        context.load_cert_chain(self.pki_dir / "admin.crt", self.pki_dir / "admin.key")
        for name, ready, what in (
            ("kubelet", partial(self._node_ready, context), "Ready"),
            ("coredns", partial(http_ok, f"http://{self.network.node_ip}:{nodeconfig.DNS_READY_PORT}/ready"), "ready"),
        ):
            wait_until(by_name[name], ready, READY_TIMEOUT, what, interval=0.2)
        for process in started:
            if not process.alive():
                raise StartupError(f"{process.name} exited; last lines of {process.log}:\n{process.log_tail()}")

    def clean_up(self) -> None:
        """After the node's processes stopped: kill what is left in its cgroups (shims, containers),
        unmount what is mounted below its directory, and remove its network namespace; after the machine's
        last node, put the host back as it was recorded."""
        hostclean.remove_cgroups(self.cgroup)
        hostclean.unmount_below(self.layout.directory)
        hostclean.remove_links_into(self.layout.pod_logs)
        hostclean.remove_unmounted(self.layout.run_dir)
        netns.delete(self.network, after_last=hostclean.restore_host)
