"""The first cluster's node runs real pods: images from the local registry by the names users write,
Services and cluster DNS, `kubectl logs/exec/port-forward`, the API server reaching pods, restarts."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import urllib.request
from pathlib import Path

import pytest

from kubetenancy import pki
from kubetenancy.localcluster import hostclean, images, registry
from kubetenancy.localcluster.controlplane import ControlPlane
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
        # Killing the container's first process ends the rest of its PID namespace: those may be gone.
        with contextlib.suppress(ProcessLookupError):
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
    # The node's image hints say, on the pod, how to add the image.
    deadline = time.monotonic() + 60
    hints: list[dict[str, str]] = []
    while time.monotonic() < deadline and not hints:
        listed = kubectl.ok("get", "events", "-n", namespace, "--field-selector=involvedObject.name=missing", "-ojson")
        hints = [e for e in json.loads(listed)["items"] if e["reason"] == "ImageNotInLocalRegistry"]
        time.sleep(0.5)
    assert [h["type"] for h in hints] == ["Warning"]
    assert hints[0]["message"].startswith('image "no-such-image:1.0" (docker.io/library/no-such-image:1.0) is not in')
    assert '"kubetenancy dev images load ARCHIVE"' in hints[0]["message"]


DEMO_GROUP = "demo.kubetenancy.test"
DEMO_SERVER = """
server {
    listen 443 ssl;
    ssl_certificate /tls/tls.crt;
    ssl_certificate_key /tls/tls.key;
    location = /apis/%(group)s/v1 {
        default_type application/json;
        return 200 '{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"%(group)s/v1","resources":[]}';
    }
}
"""


def test_the_api_server_reaches_an_aggregated_api_served_by_a_pod(
    node: Node, kubectl: Kubectl, namespace: str, tmp_path: Path
) -> None:
    ca = pki.new_ca("demo-ca")
    cert, key = pki.issue(ca, "demo", hosts=(f"demo.{namespace}.svc",), server=True).write(tmp_path, "demo")
    kubectl.ok("create", "secret", "tls", "demo-tls", f"--cert={cert}", f"--key={key}", "-n", namespace)
    (tmp_path / "demo.conf").write_text(DEMO_SERVER % {"group": DEMO_GROUP})
    kubectl.ok("create", "configmap", "demo-nginx", f"--from-file={tmp_path / 'demo.conf'}", "-n", namespace)
    mounts = [{"name": "tls", "mountPath": "/tls"}, {"name": "conf", "mountPath": "/etc/nginx/conf.d"}]
    pod = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "demo", "namespace": namespace, "labels": {"app": "demo"}},
        "spec": {
            "containers": [{"name": "nginx", "image": "nginx", "volumeMounts": mounts}],
            "volumes": [{"name": "tls", "secret": {"secretName": "demo-tls"}},
                        {"name": "conf", "configMap": {"name": "demo-nginx"}}],
        },
    }  # fmt: skip
    service = {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "demo", "namespace": namespace},
        "spec": {"selector": {"app": "demo"}, "ports": [{"port": 443, "targetPort": 443}]},
    }  # fmt: skip
    api_service = {
        "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "metadata": {"name": f"v1.{DEMO_GROUP}"},
        "spec": {
            "group": DEMO_GROUP, "version": "v1", "groupPriorityMinimum": 1000, "versionPriority": 15,
            "service": {"namespace": namespace, "name": "demo", "port": 443},
            "caBundle": base64.b64encode(ca.cert_pem).decode(),
        },
    }  # fmt: skip
    kubectl.ok("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": [pod, service]}))
    assert kubectl.running("demo", namespace) == "Running"
    try:
        kubectl.ok("apply", "-f", "-", stdin=json.dumps(api_service))
        kubectl.ok("wait", "--for=condition=Available", f"apiservice/v1.{DEMO_GROUP}", "--timeout=60s")
        served = json.loads(kubectl.ok("get", "--raw", f"/apis/{DEMO_GROUP}/v1"))
        assert served["groupVersion"] == f"{DEMO_GROUP}/v1"
    finally:
        kubectl.ok("delete", "apiservice", f"v1.{DEMO_GROUP}", "--ignore-not-found")


def _dev(state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KUBETENANCY_STATE_DIR": str(state_dir)}
    return subprocess.run(
        [sys.executable, "-m", "kubetenancy", "dev", *args], env=env, capture_output=True, text=True, check=False
    )


def test_an_image_archive_a_user_loads_runs_by_its_name(
    node: Node, kubectl: Kubectl, namespace: str, tmp_path: Path
) -> None:
    layout = tmp_path / "layout"
    shutil.copytree(images.ensure(images.NGINX), layout)
    index = json.loads((layout / "index.json").read_text())
    index["manifests"][0]["annotations"] = {"org.opencontainers.image.ref.name": "team/web:1"}
    (layout / "index.json").write_text(json.dumps(index))
    archive = tmp_path / "web.tar"
    with tarfile.open(archive, "w") as tar:
        for path in sorted(layout.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(layout)), recursive=False)

    loaded = _dev(node.state_dir, "images", "load", str(archive))
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout == "loaded docker.io/team/web:1\n"
    listed = _dev(node.state_dir, "images", "list")
    assert "docker.io/team/web" in listed.stderr
    assert kubectl("run", "loaded", "--image", "team/web:1", "-n", namespace) == (0, "pod/loaded created")
    assert kubectl.running("loaded", namespace) == "Running"

    refused = _dev(node.state_dir, "images", "load", str(tmp_path / "layout" / "index.json"))
    assert refused.returncode == 1


API_CALL = """
import json, os, ssl, urllib.request
from importlib.metadata import version
account = "/var/run/secrets/kubernetes.io/serviceaccount"
context = ssl.create_default_context(cafile=f"{account}/ca.crt")
token = open(f"{account}/token").read()
request = urllib.request.Request("https://kubernetes.default.svc/version", headers={"Authorization": f"Bearer {token}"})
with urllib.request.urlopen(request, context=context, timeout=10) as response:
    print(version("kubetenancy"), response.status, json.load(response)["gitVersion"], os.getuid())
"""


def test_a_pod_of_the_project_image_calls_the_api_server_with_its_service_account(
    node: Node, control_plane: ControlPlane, kubectl: Kubectl, namespace: str
) -> None:
    recipe = images.kubetenancy_image()
    for reference in recipe.references:
        registry.push_layout(control_plane.registry_url, images.ensure(recipe), reference)
    run = ["run", "api", "--image", "ghcr.io/kubetenancy/kubetenancy", "--restart=Never", "-n", namespace]
    assert kubectl(*run, "--command", "--", "python3", "-c", API_CALL) == (0, "pod/api created")
    kubectl.ok("wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/api", "-n", namespace, "--timeout=120s")
    # The wheel is installed, the Service and the certificate hold, the token is accepted, and not as root.
    assert kubectl.ok("logs", "api", "-n", namespace) == "0.1.0 200 v1.36.3 65532"
