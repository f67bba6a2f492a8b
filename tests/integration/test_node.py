"""The first cluster's node runs real pods: images from the local registry by the names users write,
Services and cluster DNS, `kubectl logs/exec/port-forward`, the API server reaching pods, restarts."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from kubetenancy.localcluster import hostclean
from kubetenancy.localcluster.node import Node
from tests.support.kubectl import Kubectl

pytestmark = pytest.mark.integration

WELCOME = "Welcome to nginx"


def run_ready(kubectl: Kubectl, namespace: str, name: str, *extra: str) -> dict[str, object]:
    """`kubectl run NAME --image nginx` (default pull policy) and wait until the pod is Ready."""
    _, created = kubectl("run", name, "--image", "nginx", "-n", namespace, *extra)
    assert f"pod/{name} created" in created.splitlines()
    kubectl.ok("wait", "--for=condition=Ready", f"pod/{name}", "-n", namespace, "--timeout=120s")
    pod: dict[str, object] = json.loads(kubectl.ok("get", "pod", name, "-n", namespace, "-o", "json"))
    return pod


def http_over_bash(url_host: str, port: int) -> list[str]:
    """A command for the nginx image (bash, no curl) that GETs / from host:port and prints the reply."""
    script = f'exec 3<>/dev/tcp/{url_host}/{port}; printf "GET / HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n" >&3; cat <&3'
    return ["bash", "-c", script]


def test_nginx_by_its_short_name_runs_with_logs_exec_and_port_forward(
    node: Node, kubectl: Kubectl, namespace: str
) -> None:
    nodes = json.loads(kubectl.ok("get", "nodes", "-o", "json"))["items"]
    assert [n["metadata"]["name"] for n in nodes] == [node.name]
    pod = run_ready(kubectl, namespace, "web")
    status = pod["status"]
    assert isinstance(status, dict)
    assert status["phase"] == "Running"
    assert status["podIP"].startswith(node.network.pod_cidr.rsplit(".", 2)[0])
    assert status["containerStatuses"][0]["image"] == "docker.io/library/nginx:latest"

    assert kubectl.ok("exec", "web", "-n", namespace, "--", "cat", "/etc/hostname") == "web"

    forward = subprocess.Popen(
        [kubectl.binaries.kubectl, f"--kubeconfig={kubectl.cluster.kubeconfig()}", "port-forward", "-n", namespace,
         "pod/web", ":80"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert forward.stdout is not None
        line = forward.stdout.readline()
        port = int(re.search(r"127\.0\.0\.1:(\d+)", line).group(1))  # type: ignore[union-attr]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            assert WELCOME in response.read().decode()
    finally:
        forward.terminate()
        forward.wait()
    assert '"GET / HTTP/1.1" 200' in kubectl.ok("logs", "web", "-n", namespace)


def test_services_cluster_dns_and_the_kubernetes_service(node: Node, kubectl: Kubectl, namespace: str) -> None:
    run_ready(kubectl, namespace, "backend", "--port=80", "--expose")
    run_ready(kubectl, namespace, "client")
    service_ip = kubectl.ok("get", "service", "backend", "-n", namespace, "-o", "jsonpath={.spec.clusterIP}")

    resolved = kubectl.ok("exec", "client", "-n", namespace, "--", "getent", "hosts", "backend")
    assert resolved.split()[0] == service_ip
    fqdn = f"backend.{namespace}.svc.cluster.local"
    assert WELCOME in kubectl.ok("exec", "client", "-n", namespace, "--", *http_over_bash(fqdn, 80))
    # The pod reaches itself through its own Service (hairpin).
    assert WELCOME in kubectl.ok("exec", "backend", "-n", namespace, "--", *http_over_bash("backend", 80))

    kubernetes = kubectl.ok("exec", "client", "-n", namespace, "--", "getent", "hosts", "kubernetes.default")
    assert kubernetes.split()[0] == node.network.kubernetes_service_ip
    connect = "exec 3<>/dev/tcp/kubernetes.default.svc/443 && echo connected"
    assert kubectl.ok("exec", "client", "-n", namespace, "--", "bash", "-c", connect) == "connected"

    # Names outside the cluster do not resolve: nothing is asked outside this machine.
    code, _ = kubectl("exec", "client", "-n", namespace, "--", "getent", "hosts", "example.com")
    assert code != 0


def test_the_api_server_reaches_pods_through_their_service(node: Node, kubectl: Kubectl, namespace: str) -> None:
    run_ready(kubectl, namespace, "proxied", "--port=80", "--expose")
    proxied = kubectl.ok("get", "--raw", f"/api/v1/namespaces/{namespace}/services/proxied:80/proxy/")
    assert WELCOME in proxied


def _container_pids(node: Node, container_id: str) -> set[int]:
    pids: set[int] = set()
    for hierarchy in hostclean.hierarchies():
        for directory, _, _ in os.walk(hierarchy / node.cgroup):
            if Path(directory).name.endswith(container_id):
                pids |= {int(p) for p in (Path(directory) / "cgroup.procs").read_text().split()}
    return pids


def test_a_killed_container_is_restarted_by_the_kubelet(node: Node, kubectl: Kubectl, namespace: str) -> None:
    pod = run_ready(kubectl, namespace, "fragile")
    status = pod["status"]
    assert isinstance(status, dict)
    container_id = status["containerStatuses"][0]["containerID"].removeprefix("containerd://")
    pids = _container_pids(node, container_id)
    assert pids, "the container's processes are in the node's cgroups"
    for pid in pids:
        os.kill(pid, signal.SIGKILL)

    deadline = time.monotonic() + 90
    restarts = 0
    while time.monotonic() < deadline and restarts < 1:
        restarts = int(
            kubectl.ok(
                "get", "pod", "fragile", "-n", namespace, "-o", "jsonpath={.status.containerStatuses[0].restartCount}"
            )
        )
        time.sleep(0.5)
    assert restarts == 1
    kubectl.ok("wait", "--for=condition=Ready", "pod/fragile", "-n", namespace, "--timeout=60s")


def test_an_image_that_is_not_there_fails_as_not_found(node: Node, kubectl: Kubectl, namespace: str) -> None:
    assert kubectl("run", "missing", "--image", "no-such-image:1.0", "-n", namespace) == (0, "pod/missing created")
    deadline = time.monotonic() + 60
    events = ""
    while time.monotonic() < deadline and "not found" not in events:
        events = kubectl.ok("get", "events", "-n", namespace, "--field-selector=involvedObject.name=missing")
        time.sleep(0.5)
    assert "docker.io/library/no-such-image:1.0" in events
    assert "not found" in events
