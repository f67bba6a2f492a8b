"""The Helm chart in deploy/chart: lint-clean, rendered as seed 000 installs it, values refused when mistyped."""

from __future__ import annotations

import base64
import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509

from kubetenancy.localcluster.gobuild import ensure_helm

CHART = Path(__file__).parents[2] / "deploy" / "chart" / "kubetenancy"
DEPLOY_CRDS = Path(__file__).parents[2] / "deploy" / "crds"
SEED_000 = ["--namespace", "kubetenancy", "--set", "bypassedGroups=cluster-admins"]


@pytest.fixture(scope="module")
def helm() -> Path:
    return ensure_helm()


def _helm(helm: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(helm), *args], capture_output=True, text=True, check=False)


def _render(helm: Path, *args: str) -> list[dict[str, Any]]:
    result = _helm(helm, "template", "kubetenancy", str(CHART), *SEED_000, *args)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def test_chart_crds_are_the_generated_ones() -> None:
    shipped = {path.name: path.read_text() for path in (CHART / "crds").glob("*.yaml")}
    generated = {path.name: path.read_text() for path in DEPLOY_CRDS.glob("*.yaml")}
    assert shipped == generated, "deploy/chart/kubetenancy/crds is stale: run `make crds`"


def test_helm_lint_is_clean(helm: Path) -> None:
    result = _helm(helm, "lint", "--strict", str(CHART), *SEED_000)
    assert result.returncode == 0, result.stdout + result.stderr


def test_rendered_as_seed_000_installs_it(helm: Path) -> None:
    docs = {(d["kind"], d["metadata"]["name"]): d for d in _render(helm)}
    operator = docs["Deployment", "kubetenancy-operator"]["spec"]
    apiserver = docs["Deployment", "kubetenancy-apiserver"]["spec"]
    assert operator["replicas"] == 1
    assert apiserver["replicas"] == 2
    args = operator["template"]["spec"]["containers"][0]["args"]
    assert args[args.index("--bypassed-groups") + 1] == "cluster-admins"
    assert args[args.index("--webhook-service") + 1] == "kubetenancy/kubetenancy-webhook"
    assert ("Service", "kubetenancy-webhook") in docs
    assert ("Service", "kubetenancy-apiserver") in docs
    for name in ("kubetenancy-operator", "kubetenancy-apiserver"):
        assert docs["PodDisruptionBudget", name]["spec"]["maxUnavailable"] == 1
        assert docs["ServiceAccount", name]["metadata"]["namespace"] == "kubetenancy"
        pod = docs["Deployment", name]["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] == name
        assert pod["securityContext"]["runAsNonRoot"] is True
        container = pod["containers"][0]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["resources"]["requests"]["memory"]
        assert container["livenessProbe"]
        assert container["readinessProbe"]


def test_replicas_follow_the_values(helm: Path) -> None:
    docs = {(d["kind"], d["metadata"]["name"]): d for d in _render(helm, "--set", "operator.replicas=3")}
    assert docs["Deployment", "kubetenancy-operator"]["spec"]["replicas"] == 3


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("operator.replica=3", "additional properties 'replica' not allowed"),
        ("bypassedGroup=cluster-admins", "additional properties 'bypassedGroup' not allowed"),
        ("apiserver.replicas=0", "minimum"),
        ("image.pullPolicy=Sometimes", "pullPolicy"),
        ("webhooks.networkPolicy.enabled=true", "at '/webhooks/networkPolicy/from': minItems"),
    ],
)
def test_schema_refuses_a_mistyped_value(helm: Path, value: str, message: str) -> None:
    result = _helm(helm, "template", "kubetenancy", str(CHART), "--set", value)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr


def test_replicas_share_one_serving_certificate_per_component(helm: Path, tmp_path: Path) -> None:
    docs = {(d["kind"], d["metadata"]["name"]): d for d in _render(helm)}
    for component, deployment in (("webhook", "kubetenancy-operator"), ("apiserver", "kubetenancy-apiserver")):
        secret = f"kubetenancy-{component}-certs"
        pod = docs["Deployment", deployment]["spec"]["template"]["spec"]
        assert {"name": "certs", "secret": {"secretName": secret}} in pod["volumes"]
        files = {name: base64.b64decode(value) for name, value in docs["Secret", secret]["data"].items()}
        for name, content in files.items():
            (tmp_path / name).write_bytes(content)
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        context.load_cert_chain(tmp_path / f"{component}.crt", tmp_path / f"{component}.key")
        certificate = x509.load_pem_x509_certificate(files[f"{component}.crt"])
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert f"kubetenancy-{component}.kubetenancy.svc" in names.get_values_for_type(x509.DNSName)


def test_no_network_policy_unless_asked(helm: Path) -> None:
    assert not [d for d in _render(helm) if d["kind"] == "NetworkPolicy"]


def test_network_policy_admits_only_the_control_plane_to_the_webhook_port(helm: Path) -> None:
    peers = (
        "--set",
        "webhooks.networkPolicy.enabled=true",
        "--set",
        "webhooks.networkPolicy.from[0].ipBlock.cidr=10.0.0.0/27",
    )
    docs = {(d["kind"], d["metadata"]["name"]): d for d in _render(helm, *peers)}
    policy = docs["NetworkPolicy", "kubetenancy-webhook"]["spec"]
    operator = docs["Deployment", "kubetenancy-operator"]["spec"]["template"]
    assert policy["podSelector"]["matchLabels"].items() <= operator["metadata"]["labels"].items()
    assert policy["policyTypes"] == ["Ingress"]
    ports = {p["name"]: p["containerPort"] for p in operator["spec"]["containers"][0]["ports"]}
    service = docs["Service", "kubetenancy-webhook"]["spec"]
    by_port = {rule["ports"][0]["port"]: rule.get("from") for rule in policy["ingress"]}
    assert service["ports"][0]["targetPort"] in by_port  # the port the API server's calls arrive on
    assert by_port["webhook"] == [{"ipBlock": {"cidr": "10.0.0.0/27"}}]
    assert by_port["probes"] is None  # kubelet's probes and metrics scrapes from anywhere
    assert set(by_port) == set(ports)


def test_webhook_client_ca_makes_the_operator_require_it(helm: Path) -> None:
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    for value, required in (("", False), (pem, True)):
        docs = {
            (d["kind"], d["metadata"]["name"]): d for d in _render(helm, "--set-string", f"webhooks.clientCA={value}")
        }
        args = docs["Deployment", "kubetenancy-operator"]["spec"]["template"]["spec"]["containers"][0]["args"]
        secret = docs["Secret", "kubetenancy-webhook-certs"]["data"]
        assert ("--webhook-client-ca" in args) is required
        assert ("client-ca.crt" in secret) is required
    assert args[args.index("--webhook-client-ca") + 1] == "/certs/client-ca.crt"  # the Secret mounted at /certs
    assert base64.b64decode(secret["client-ca.crt"]).decode() == pem
