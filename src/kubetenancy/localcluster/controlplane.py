"""A real local control plane: one etcd, and per cluster a kube-apiserver and a kube-controller-manager.

Everything lives in one state directory (certificates, token file, kubeconfigs, logs, etcd data and a
`state.json` that lets another process find and stop the components). Clusters share the etcd, each
under its own `--etcd-prefix`, and share one CA; each has its own service-account issuer.

`start` begins a new, empty plane (it wipes the data a previous one left in the state directory: callers
make that choice explicitly); `stop` stops every process and undoes what the nodes changed on the machine
but keeps the data, so that `resume.repair` can start the same plane again. This module starts and stops
processes and writes files; it creates no Kubernetes objects.
"""

from __future__ import annotations

import json
import shutil
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from kubetenancy import pki
from kubetenancy.localcluster import hostclean, kubeconfig, netns, registry, users
from kubetenancy.localcluster.gobuild import Binaries, NodeBinaries, ensure_binaries
from kubetenancy.localcluster.node import Node
from kubetenancy.localcluster.processes import (
    Process,
    StartupError,
    free_port,
    http_ok,
    spawn,
    wait_until,
)

CONTROLLERS = (
    "namespace-controller",
    "resourcequota-controller",
    "garbage-collector-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "root-ca-certificate-publisher-controller",
    "clusterrole-aggregation-controller",
    "deployment-controller",
    "replicaset-controller",
    "replicationcontroller-controller",
    "statefulset-controller",
    "daemonset-controller",
    "job-controller",
    "cronjob-controller",
    "ttl-after-finished-controller",
    "disruption-controller",
    "endpoints-controller",
    "endpointslice-controller",
    "endpointslice-mirroring-controller",
    "pod-garbage-collector-controller",
    "node-lifecycle-controller",
    "taint-eviction-controller",
)
ADMISSION_PLUGINS = (
    "NamespaceLifecycle",
    "NodeRestriction",
    "LimitRanger",
    "ServiceAccount",
    "ResourceQuota",
    "PodSecurity",
    "MutatingAdmissionWebhook",
    "ValidatingAdmissionWebhook",
)
FRONT_PROXY_CLIENT = "front-proxy-client"
WEBHOOK_CLIENT = "kube-apiserver-webhook-client"
"""The client certificate every API server presents to the admission webhooks it calls."""
STARTUP_TIMEOUT = 90.0


def admission_configuration(webhook_credentials: Path) -> dict[str, Any]:
    """The API server's admission configuration: both webhook plugins present the credentials of
    `webhook_credentials` (a kubeconfig) to the webhooks they call."""
    webhook = {"apiVersion": "apiserver.config.k8s.io/v1", "kind": "WebhookAdmissionConfiguration"}
    return {
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "AdmissionConfiguration",
        "plugins": [
            {"name": plugin, "configuration": {**webhook, "kubeConfigFile": str(webhook_credentials)}}
            for plugin in ("ValidatingAdmissionWebhook", "MutatingAdmissionWebhook")
        ],
    }


@dataclass(frozen=True)
class TokenWebhook:
    """Where the API servers send TokenReviews for tokens they do not know themselves."""

    url: str
    ca_file: Path
    cache_ttl: str = "10s"
    client_cert: tuple[Path, Path] | None = None
    """The client certificate and key the API servers present to it."""

    @classmethod
    def prepare(cls, directory: Path, port: int) -> TokenWebhook:
        """Credentials for a webhook about to serve https://127.0.0.1:port/authenticate, made fresh in
        `directory`: one CA (`ca.crt`) signs its serving certificate (`server.crt`, `server.key`) and the API
        servers' client certificate, so a webhook requiring that CA of its callers serves only them."""
        ca = pki.new_ca("kubetenancy-authenticator-ca")
        ca_file, _ = ca.write(directory, "ca")
        pki.issue(ca, "kubetenancy-authenticator", hosts=("127.0.0.1",), server=True).write(directory, "server")
        client_cert = pki.issue(ca, WEBHOOK_CLIENT, client=True).write(directory, "apiserver-client")
        return cls(f"https://127.0.0.1:{port}/authenticate", ca_file, client_cert=client_cert)


@dataclass(frozen=True)
class Cluster:
    """One API server of the control plane, as seen by its clients."""

    name: str
    port: int
    state_dir: Path

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def webhook_client_ca(self) -> Path:
        """The CA of the client certificate this cluster's API server presents to admission webhooks."""
        return self.state_dir / "pki" / "webhook-client-ca.crt"

    def kubeconfig(self, user: str | None = None) -> Path:
        """The admin's kubeconfig, or a test user's (token credentials)."""
        return self.state_dir / self.name / "kubeconfigs" / f"{user or 'admin'}.kubeconfig"


class ControlPlane:
    """Build-if-needed, start, find and stop a local control plane in `state_dir`."""

    def __init__(
        self,
        state_dir: Path,
        *,
        clusters: int = 1,
        nodes: int = 0,
        users: Mapping[str, tuple[str, ...]] = users.DEFAULT_USERS,
        token_webhook: TokenWebhook | None = None,
        authentication_config: Mapping[str, Any] | None = None,
    ) -> None:
        """`authentication_config`: a structured `AuthenticationConfiguration` (JWT issuers) for every API server."""
        if clusters < 1:
            raise ValueError(f"a control plane needs at least one cluster, got clusters={clusters}")
        if not 0 <= nodes <= clusters:
            raise ValueError(f"nodes={nodes}: the first 0..{clusters} clusters can have a node")
        self.state_dir = state_dir
        self.cluster_count = clusters
        self.node_count = nodes
        self.networks: dict[str, netns.NodeNetwork] = {}
        """The node network of each cluster that has (or will have) a node."""
        self.registry_port = 0
        self.users = dict(users)
        self.token_webhook = token_webhook
        self.authentication_config = authentication_config
        self.clusters: list[Cluster] = []
        self.processes: list[Process] = []
        self.tokens: dict[str, str] = {}

    # -- paths --------------------------------------------------------------------------------

    @property
    def pki_dir(self) -> Path:
        return self.state_dir / "pki"

    @property
    def ca_file(self) -> Path:
        return self.pki_dir / "ca.crt"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.json"

    def cluster(self, name: str | None = None) -> Cluster:
        """The named cluster, or the first one."""
        if name is None:
            return self.clusters[0]
        for cluster in self.clusters:
            if cluster.name == name:
                return cluster
        known = ", ".join(c.name for c in self.clusters)
        raise KeyError(f'no cluster named "{name}" in this control plane (clusters: {known})')

    # -- lifecycle ----------------------------------------------------------------------------

    def running(self) -> bool:
        return bool(self.processes) and all(p.alive() for p in self.processes)

    def stopped(self) -> bool:
        return not any(p.alive() for p in self.processes)

    def start(self, binaries: Binaries | None = None) -> None:
        """Start every component and wait until each cluster serves requests and runs its controllers."""
        binaries = binaries or ensure_binaries()
        previous = ControlPlane.load(self.state_dir)
        if previous is not None:
            previous.stop()
        self.stop()
        for data in (self.state_dir / "etcd", self.state_dir / "registry", *self.state_dir.glob("cluster-*/node")):
            shutil.rmtree(data, ignore_errors=True)
        self.clusters = [Cluster(f"cluster-{i + 1}", free_port(), self.state_dir) for i in range(self.cluster_count)]
        self.tokens = users.new_tokens(self.users)
        self.registry_port = free_port()
        try:
            self._create_networks()
            self._write_pki()
            etcd_url = self._start_etcd(binaries)
            for index, cluster in enumerate(self.clusters):
                self._start_apiserver(binaries, cluster, etcd_url, compacts=index == 0)
            self.save()
            context = ssl.create_default_context(cafile=self.ca_file)
            for cluster, apiserver in zip(self.clusters, self.processes[1:], strict=True):
                wait_until(
                    apiserver,
                    partial(http_ok, f"{cluster.server}/readyz", context),
                    STARTUP_TIMEOUT,
                    "ready",
                )
                self._write_kubeconfigs(cluster)
            for cluster in self.clusters:
                self._start_controller_manager(binaries, cluster)
            self.save()
            self._wait_for_controllers()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop every component (nodes first, etcd last) and undo what the nodes left on the machine; the
        data (and `state.json`, which says how to start the same plane again) stays."""
        for process in reversed(self.processes):
            process.stop()
        for node in self.nodes():
            node.clean_up()

    # -- nodes --------------------------------------------------------------------------------

    def _create_networks(self) -> None:
        for cluster in self.clusters[: self.node_count]:
            name = netns.netns_name(self.state_dir, cluster.name)
            self.networks[cluster.name] = netns.create(name, before_first=hostclean.record_host)

    def nodes(self) -> list[Node]:
        """The node of every cluster that has a node network (started or not)."""
        return [
            Node(c.name, c.port, self.registry_port, self.networks[c.name], self.state_dir)
            for c in self.clusters
            if c.name in self.networks
        ]

    @property
    def registry_url(self) -> str:
        return f"http://127.0.0.1:{self.registry_port}"

    def start_nodes(self, binaries: NodeBinaries, images: list[tuple[Path, list[registry.Reference]]]) -> None:
        """Start the registry (with `images`: OCI layouts and their names) and every node; wait until each
        node is Ready and its DNS answers."""
        started = {p.name for p in self.processes}
        if registry.REGISTRY not in started:
            self.adopt(registry.start(binaries.registry, self.state_dir, self.registry_port))
        for layout, references in images:
            for reference in references:
                registry.push_layout(self.registry_url, layout, reference)
        for node in self.nodes():
            if f"{node.cluster}/kubelet" in started:
                continue
            node.write_files()
            processes = node.processes(binaries)
            for process in processes:
                self.adopt(process)
            node.wait_ready(processes)

    def adopt(self, process: Process) -> None:
        """Track a process started next to the control plane (the operator) so `stop` ends it too."""
        self.processes.append(process)
        self.save()

    # -- persistence --------------------------------------------------------------------------

    def save(self) -> None:
        """Write `state.json`: what runs where, and how to start each component again."""
        state = {
            "clusters": [{"name": c.name, "port": c.port} for c in self.clusters],
            "networks": {name: {"slot": n.slot, "netns": n.netns} for name, n in self.networks.items()},
            "registry_port": self.registry_port,
            "processes": [p.to_json() for p in self.processes],
            "users": self.users,
            "tokens": self.tokens,
        }
        self.state_file.write_text(json.dumps(state, indent=2))
        self.state_file.chmod(0o600)

    @classmethod
    def load(cls, state_dir: Path) -> ControlPlane | None:
        """The control plane last started in `state_dir`, or None if none was (or it was stopped)."""
        try:
            state = json.loads((state_dir / "state.json").read_text())
        except FileNotFoundError:
            return None
        networks = {name: netns.NodeNetwork(**n) for name, n in state.get("networks", {}).items()}
        plane = cls(state_dir, clusters=len(state["clusters"]), nodes=len(networks), users=state["users"])
        plane.clusters = [Cluster(c["name"], c["port"], state_dir) for c in state["clusters"]]
        plane.networks = networks
        plane.registry_port = state.get("registry_port", 0)
        plane.processes = [Process.from_json(p) for p in state["processes"]]
        plane.tokens = state["tokens"]
        return plane

    # -- components ---------------------------------------------------------------------------

    def _write_pki(self) -> None:
        ca = pki.new_ca("kubetenancy-local-ca")
        ca.write(self.pki_dir, "ca")
        hosts: tuple[str, ...] = (
            "127.0.0.1",
            "localhost",
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
        )
        hosts += tuple(ip for n in self.networks.values() for ip in (n.node_ip, n.kubernetes_service_ip))
        pki.issue(ca, "kube-apiserver", hosts=hosts, server=True).write(self.pki_dir, "apiserver")
        kubelet_client = pki.issue(ca, "kube-apiserver-kubelet-client", organizations=("system:masters",), client=True)
        kubelet_client.write(self.pki_dir, "apiserver-kubelet-client")
        pki.issue(ca, users.ADMIN_USER, organizations=users.ADMIN_GROUPS, client=True).write(self.pki_dir, "admin")
        pki.issue(ca, "system:kube-controller-manager", client=True).write(self.pki_dir, "controller-manager")
        front_proxy_ca = pki.new_ca("kubetenancy-front-proxy-ca")
        front_proxy_ca.write(self.pki_dir, "front-proxy-ca")
        pki.issue(front_proxy_ca, FRONT_PROXY_CLIENT, client=True).write(self.pki_dir, "front-proxy-client")
        # A CA of its own, so that webhooks trusting it accept this one certificate and no other client of the plane.
        webhook_client_ca = pki.new_ca("kubetenancy-webhook-client-ca")
        webhook_client_ca.write(self.pki_dir, "webhook-client-ca")
        client_cert = pki.issue(webhook_client_ca, WEBHOOK_CLIENT, client=True).write(self.pki_dir, "webhook-client")
        credentials = self.pki_dir / "webhook-client.kubeconfig"
        kubeconfig.write(credentials, kubeconfig.every_server(*client_cert))
        admission_config = admission_configuration(credentials)
        (self.state_dir / "admission-config.json").write_text(json.dumps(admission_config, indent=2))
        private, public = pki.new_signing_key()
        (self.pki_dir / "sa.key").write_bytes(private)
        (self.pki_dir / "sa.key").chmod(0o600)
        (self.pki_dir / "sa.pub").write_bytes(public)
        tokens = self.state_dir / "tokens.csv"
        tokens.write_text(users.token_file(self.users, self.tokens))
        tokens.chmod(0o600)

    def _start_etcd(self, binaries: Binaries) -> str:
        client_port, peer_port = free_port(), free_port()
        client_url, peer_url = f"http://127.0.0.1:{client_port}", f"http://127.0.0.1:{peer_port}"
        etcd = spawn(
            "etcd",
            [
                binaries.etcd,
                "--name=kubetenancy",
                f"--data-dir={self.state_dir / 'etcd'}",
                f"--listen-client-urls={client_url}",
                f"--advertise-client-urls={client_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=kubetenancy={peer_url}",
                "--unsafe-no-fsync=true",
                "--log-level=warn",
            ],
            self.logs_dir / "etcd.log",
        )
        self.processes.append(etcd)
        wait_until(etcd, partial(http_ok, f"{client_url}/health"), STARTUP_TIMEOUT, "healthy")
        return client_url

    def _start_apiserver(self, binaries: Binaries, cluster: Cluster, etcd_url: str, *, compacts: bool) -> None:
        pki_dir = self.pki_dir
        argv: list[str | Path] = [
            binaries.kube_apiserver,
            f"--etcd-servers={etcd_url}",
            f"--etcd-prefix=/kubetenancy/{cluster.name}",
            "--bind-address=127.0.0.1",
            f"--secure-port={cluster.port}",
            f"--cert-dir={self.state_dir / cluster.name / 'certs'}",
            f"--tls-cert-file={pki_dir / 'apiserver.crt'}",
            f"--tls-private-key-file={pki_dir / 'apiserver.key'}",
            f"--client-ca-file={self.ca_file}",
            f"--token-auth-file={self.state_dir / 'tokens.csv'}",
            "--authorization-mode=Node,RBAC",
            f"--enable-admission-plugins={','.join(ADMISSION_PLUGINS)}",
            f"--admission-control-config-file={self.state_dir / 'admission-config.json'}",
            "--allow-privileged=true",
            "--kubelet-preferred-address-types=InternalIP",
            f"--kubelet-client-certificate={pki_dir / 'apiserver-kubelet-client.crt'}",
            f"--kubelet-client-key={pki_dir / 'apiserver-kubelet-client.key'}",
            f"--kubelet-certificate-authority={self.ca_file}",
            f"--service-account-issuer=https://{cluster.name}.kubetenancy.local",
            f"--service-account-key-file={pki_dir / 'sa.pub'}",
            f"--service-account-signing-key-file={pki_dir / 'sa.key'}",
            f"--requestheader-client-ca-file={pki_dir / 'front-proxy-ca.crt'}",
            f"--requestheader-allowed-names={FRONT_PROXY_CLIENT}",
            "--requestheader-username-headers=X-Remote-User",
            "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            f"--proxy-client-cert-file={pki_dir / 'front-proxy-client.crt'}",
            f"--proxy-client-key-file={pki_dir / 'front-proxy-client.key'}",
            "--profiling=false",
            "--v=1",
        ]
        network = self.networks.get(cluster.name)
        if network is None:
            argv += ["--advertise-address=127.0.0.1", "--service-cluster-ip-range=10.0.0.0/24"]
            argv.append("--endpoint-reconciler-type=none")  # the `kubernetes` Service cannot point at loopback
        else:
            # Pods reach the API server at the node IP (the node's forwarder), through the `kubernetes` Service.
            argv += [f"--advertise-address={network.node_ip}", f"--service-cluster-ip-range={network.service_cidr}"]
        if not compacts:
            # All clusters share one etcd and its compaction key: one API server compacts for all.
            argv.append("--etcd-compaction-interval=0")
        if self.authentication_config is not None:
            config_file = self.state_dir / "authentication-config.json"
            config_file.write_text(json.dumps(self.authentication_config, indent=2))
            argv.append(f"--authentication-config={config_file}")
        if self.token_webhook is not None:
            webhook_config = kubeconfig.write(
                self.state_dir / cluster.name / "token-webhook.kubeconfig",
                kubeconfig.kubeconfig(
                    "token-webhook",
                    self.token_webhook.url,
                    self.token_webhook.ca_file,
                    "apiserver",
                    client_cert=self.token_webhook.client_cert,
                ),
            )
            argv += [
                f"--authentication-token-webhook-config-file={webhook_config}",
                f"--authentication-token-webhook-cache-ttl={self.token_webhook.cache_ttl}",
                "--authentication-token-webhook-version=v1",
            ]
        self.processes.append(
            spawn(f"{cluster.name}/kube-apiserver", argv, self.logs_dir / f"{cluster.name}-kube-apiserver.log")
        )

    def _write_kubeconfigs(self, cluster: Cluster) -> None:
        admin_cert = (self.pki_dir / "admin.crt", self.pki_dir / "admin.key")
        kubeconfig.write(
            cluster.kubeconfig(),
            kubeconfig.kubeconfig(cluster.name, cluster.server, self.ca_file, "admin", client_cert=admin_cert),
        )
        kcm_cert = (self.pki_dir / "controller-manager.crt", self.pki_dir / "controller-manager.key")
        kubeconfig.write(
            cluster.kubeconfig("controller-manager"),
            kubeconfig.kubeconfig(
                cluster.name, cluster.server, self.ca_file, "controller-manager", client_cert=kcm_cert
            ),
        )
        for user, token in self.tokens.items():
            kubeconfig.write(
                cluster.kubeconfig(user),
                kubeconfig.kubeconfig(cluster.name, cluster.server, self.ca_file, user, token=token),
            )

    def _start_controller_manager(self, binaries: Binaries, cluster: Cluster) -> None:
        argv: list[str | Path] = [
            binaries.kube_controller_manager,
            f"--kubeconfig={cluster.kubeconfig('controller-manager')}",
            f"--controllers={','.join(CONTROLLERS)}",
            f"--service-account-private-key-file={self.pki_dir / 'sa.key'}",
            f"--root-ca-file={self.ca_file}",
            f"--cluster-name={cluster.name}",
            # Each controller acts as its own service account, with the RBAC roles Kubernetes bootstraps.
            "--use-service-account-credentials=true",
            "--leader-elect=false",
            "--secure-port=0",
            "--v=1",
        ]
        self.processes.append(
            spawn(
                f"{cluster.name}/kube-controller-manager",
                argv,
                self.logs_dir / f"{cluster.name}-kube-controller-manager.log",
            )
        )

    def _wait_for_controllers(self) -> None:
        """The first objects of the service-account and root-CA controllers prove the manager is at work."""
        context = ssl.create_default_context(cafile=self.ca_file)
        context.load_cert_chain(self.pki_dir / "admin.crt", self.pki_dir / "admin.key")
        managers = self.processes[1 + len(self.clusters) :]
        for cluster, manager in zip(self.clusters, managers, strict=True):
            for url in (
                f"{cluster.server}/api/v1/namespaces/default/serviceaccounts/default",
                f"{cluster.server}/api/v1/namespaces/default/configmaps/kube-root-ca.crt",
            ):
                wait_until(manager, partial(http_ok, url, context), STARTUP_TIMEOUT, "running controllers")


__all__ = ["Cluster", "ControlPlane", "StartupError", "TokenWebhook"]
