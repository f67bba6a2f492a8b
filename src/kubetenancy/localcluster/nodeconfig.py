"""The configuration files of a local node's components, as pure functions of its layout and addresses.

containerd (CRI with the settings this machine needs, CNI from Debian's plugins, every registry
mirrored to the local one), the CNI bridge network, kubelet, kube-proxy and CoreDNS. Nothing here starts
a process or touches the host; `node.py` writes these files and runs the components.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kubetenancy.localcluster.netns import NodeNetwork

CNI_BIN_DIR = "/usr/lib/cni"
PAUSE_IMAGE = "registry.k8s.io/pause:3.10"
MIRRORED_REGISTRIES = ("docker.io", "registry.k8s.io", "ghcr.io", "quay.io")
"""Pulls from these go to the local registry, under a repository prefixed with the registry's name."""
UNMIRRORED = "_unmirrored"
"""Where pulls from any other registry go (an empty prefix: they fail as not found, never reach out)."""
KUBELET_PORT = 10250
DNS_READY_PORT = 8181


@dataclass(frozen=True)
class NodeLayout:
    """Where a node keeps its files (all below one directory, so teardown can unmount and remove it),
    and its sockets (below a short `run_dir`: a socket path has at most 104 characters)."""

    directory: Path
    run_dir: Path

    @property
    def kubelet_root(self) -> Path:
        """kubelet's `--root-dir`: a bind mount of `kubelet/root` below `run_dir`."""
        return self.run_dir / "kubelet"

    @property
    def containerd_socket(self) -> Path:
        return self.run_dir / "containerd.sock"

    @property
    def containerd_config(self) -> Path:
        return self.directory / "containerd" / "config.toml"

    @property
    def registry_hosts(self) -> Path:
        return self.directory / "containerd" / "certs.d"

    @property
    def cni_conf_dir(self) -> Path:
        return self.directory / "cni" / "net.d"

    @property
    def kubelet_dir(self) -> Path:
        return self.directory / "kubelet"

    @property
    def pod_logs(self) -> Path:
        return self.directory / "pod-logs"


def containerd_config(layout: NodeLayout) -> str:
    """containerd 1.6's config: private root, state and socket; CRI as this machine needs it."""
    base = layout.directory / "containerd"
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    return "\n".join(
        [
            "version = 2",
            f'root = "{base / "root"}"',
            f'state = "{base / "state"}"',
            "[grpc]",
            f'  address = "{layout.containerd_socket}"',
            "[ttrpc]",
            f'  address = "{layout.run_dir / "ttrpc.sock"}"',
            "[debug]",
            '  level = "warn"',
            f"[{cri}]",
            f'  sandbox_image = "{PAUSE_IMAGE}"',
            # Root here lacks CAP_SYS_RESOURCE: without this every sandbox fails in runc.
            "  restrict_oom_score_adj = true",
            # Pods' network namespace files under the node's state, not /run/netns.
            "  netns_mounts_under_state_dir = true",
            "  disable_apparmor = true",
            f"[{cri}.containerd]",
            '  snapshotter = "overlayfs"',
            '  default_runtime_name = "runc"',
            f"[{cri}.containerd.runtimes.runc]",
            '  runtime_type = "io.containerd.runc.v2"',
            f"[{cri}.containerd.runtimes.runc.options]",
            "  SystemdCgroup = false",
            f"[{cri}.cni]",
            f'  bin_dir = "{CNI_BIN_DIR}"',
            f'  conf_dir = "{layout.cni_conf_dir}"',
            f"[{cri}.registry]",
            f'  config_path = "{layout.registry_hosts}"',
            "",
        ]
    )


def registry_hosts(registry: str, registry_url: str) -> str:
    """`hosts.toml` sending every pull for `registry` to the local registry, prefixed with its name.

    The mirror is also the `server`, so a missing image fails as not found instead of reaching out
    (containerd 1.6 also insists on a `host` table).
    """
    mirror = f"{registry_url}/v2/{registry}"
    settings = ["override_path = true", 'capabilities = ["pull", "resolve"]']
    return "\n".join([f'server = "{mirror}"', *settings, f'[host."{mirror}"]', *settings, ""])


def cni_network(network: NodeNetwork, layout: NodeLayout) -> str:
    """A bridge in the node's namespace with the node's pod range; portmap for hostPort."""
    config: dict[str, Any] = {
        "cniVersion": "1.0.0",
        "name": "kubetenancy",
        "plugins": [
            {
                "type": "bridge",
                "bridge": "cni0",
                "isGateway": True,
                "ipMasq": False,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": network.pod_cidr}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(layout.directory / "cni" / "ipam"),
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }
    return json.dumps(config, indent=2)


def kubelet_config(
    network: NodeNetwork, layout: NodeLayout, *, ca_file: Path, cert: tuple[Path, Path], cgroup_root: str
) -> str:
    config = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "containerRuntimeEndpoint": f"unix://{layout.containerd_socket}",
        "imageServiceEndpoint": f"unix://{layout.containerd_socket}",
        "cgroupDriver": "cgroupfs",  # containerd 1.6 cannot tell kubelet its driver
        "cgroupRoot": cgroup_root,
        "failCgroupV1": False,
        "failSwapOn": False,
        "staticPodPath": str(layout.kubelet_dir / "manifests"),
        "podLogsDir": str(layout.pod_logs),
        "address": network.node_ip,
        "port": KUBELET_PORT,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "clusterDNS": [network.node_ip],
        "clusterDomain": "cluster.local",
        "resolvConf": str(layout.kubelet_dir / "resolv.conf"),
        "tlsCertFile": str(cert[0]),
        "tlsPrivateKeyFile": str(cert[1]),
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(ca_file)},
        },
        "authorization": {"mode": "Webhook"},
        # A development machine's disk is often fuller than a node's: evict only when it is really full.
        "evictionHard": {"memory.available": "100Mi", "nodefs.available": "2%", "imagefs.available": "2%"},
        "imageGCHighThresholdPercent": 98,
        "imageGCLowThresholdPercent": 95,
        "serializeImagePulls": False,
        "rotateCertificates": False,
    }
    return yaml.safe_dump(config, sort_keys=False)


def kube_proxy_config(network: NodeNetwork, kubeconfig: Path, node_name: str) -> str:
    config = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": str(kubeconfig)},
        "hostnameOverride": node_name,
        "mode": "iptables",
        "clusterCIDR": network.pod_cidr,
        # Replies of a pod reached through a Service by a pod on the same bridge would skip iptables (no
        # br_netfilter in the namespace): masquerading sends them back through the node, where NAT is undone.
        "iptables": {"masqueradeAll": True},
        # Zero leaves the machine-wide conntrack settings as they are.
        "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
        "metricsBindAddress": "127.0.0.1:10249",
        "healthzBindAddress": "127.0.0.1:10256",
        "nodePortAddresses": [f"{network.node_ip}/32"],
    }
    return yaml.safe_dump(config, sort_keys=False)


def corefile(network: NodeNetwork, kubeconfig: Path) -> str:
    """Cluster DNS on the node IP. No `forward`: names outside the cluster are not resolved (there is
    nothing this workplace may ask about them)."""
    return "\n".join(
        [
            ".:53 {",
            f"    bind {network.node_ip}",
            "    errors",
            f"    ready {network.node_ip}:{DNS_READY_PORT}",
            "    kubernetes cluster.local in-addr.arpa ip6.arpa {",
            f"        kubeconfig {kubeconfig}",
            "        pods insecure",
            "        fallthrough in-addr.arpa ip6.arpa",
            "    }",
            "    cache 30",
            "}",
            "",
        ]
    )
