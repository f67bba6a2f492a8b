"""The CLI as a person reads it: help says `kubectl tenancy` and names values, expected errors are one line,
and `tenant` rows come out of what a member may read (no cluster needed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from botocore.exceptions import NoCredentialsError

from kubetenancy.cli import errors
from kubetenancy.cli import tenants_view as view
from kubetenancy.cli.main import prog_name

PLUGIN = Path(sys.executable).parent / "kubectl-tenancy"


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environment.update(AWS_CONFIG_FILE="/nonexistent", AWS_SHARED_CREDENTIALS_FILE="/nonexistent", COLUMNS="200", **env)
    return subprocess.run([str(PLUGIN), *args], capture_output=True, text=True, env=environment, check=False)


def test_help_names_the_plugin_as_kubectl_runs_it() -> None:
    assert prog_name("/usr/local/bin/kubectl-tenancy") == "kubectl tenancy"
    assert prog_name("/x/kubetenancy") == "kubetenancy"
    for args in (("--help",), ("aws", "token", "--help"), ("tenant", "get", "--help"), ("dev", "up", "--help")):
        shown = run(*args)
        assert shown.returncode == 0, shown.stderr
        assert "Usage: kubectl tenancy" in shown.stdout
        assert "kubectl-tenancy" not in shown.stdout
        assert "<bool>" not in shown.stdout
        assert "<str>" not in shown.stdout
    assert "--cluster        CLUSTER" in run("aws", "token", "--help").stdout


def test_expected_errors_are_one_line_and_debug_shows_the_traceback() -> None:
    refused = run("aws", "token", "--cluster", "c")
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1, refused.stderr
    assert refused.stderr.startswith("error: no AWS credentials found: sign in first")
    assert "(run with --debug for the traceback)" in refused.stderr
    for debug in (
        run("aws", "token", "--cluster", "c", "--debug"),
        run("aws", "token", "--cluster", "c", KUBETENANCY_DEBUG="1"),
    ):
        assert debug.returncode == 1
        assert "Traceback" in debug.stderr
        assert "NoCredentialsError" in debug.stderr
    missing = run("show", "admin-rbac", "--kubeconfig", "/nonexistent/kubeconfig")
    assert missing.returncode == 1
    assert missing.stderr.count("\n") == 1, missing.stderr
    assert missing.stderr.startswith(
        "error: no usable kubeconfig: Configuration file /nonexistent/kubeconfig not found"
    )


def test_error_lines() -> None:
    assert errors.one_line(NoCredentialsError()) is not None
    assert errors.one_line(KeyError("a bug")) is None, "a bug keeps its traceback"
    assert errors.without_debug_flag(["aws", "--debug", "token", "--", "--debug"]) == ["aws", "token", "--", "--debug"]
    assert errors.debugging(["x", "--debug"])
    assert not errors.debugging(["x", "--", "--debug"])


def tenant_resource(kind: str, name: str, spec: dict[str, object], namespaces: list[object]) -> dict[str, object]:
    return {"kind": kind, "metadata": {"name": name}, "spec": spec, "status": {"namespaces": namespaces}}


def test_tenant_rows() -> None:
    mto = tenant_resource(
        "Tenant",
        "logistics",
        {
            "quota": "q",
            "accessControl": {"owners": {"users": ["falcon"]}, "viewers": {"groups": ["ops"]}},
            "storageClasses": {"allowed": ["fast"]},
        },
        ["logistics-dev"],
    )
    kiosk = tenant_resource("Account", "node", {"subjects": [{"kind": "User", "name": "dev"}]}, [{"name": "node-a"}])
    assert view.namespaces_of(mto) == ["logistics-dev"]
    assert view.namespaces_of(kiosk) == ["node-a"]
    assert view.role_of(view.model_of(mto), "bob", ("ops",)) == "viewer"
    assert view.role_of(view.model_of(kiosk), "dev", ()) == "owner"
    spaces = [{"spec": {"account": "logistics"}}, {"spec": {}}]
    rules = [
        {"verbs": ["get"], "apiGroups": ["tenantoperator.stakater.com"], "resources": ["tenants"],
         "resourceNames": ["empty"]},  # a tenant without namespaces: its members may still get it
        {"verbs": ["get"], "apiGroups": [""], "resources": ["namespaces"], "resourceNames": ["not-a-tenant"]},
        {"verbs": ["list"], "apiGroups": ["config.kiosk.sh"], "resources": ["accounts"], "resourceNames": ["nope"]},
        {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]},  # an admin's wildcard names nothing
    ]  # fmt: skip
    assert view.tenant_names(spaces, [{"metadata": {"name": "node"}}], rules) == ["empty", "logistics", "node"]
    assert view.allowed_classes(view.model_of(mto), "storageclasses") == ["fast"]
    assert view.allowed_classes(view.model_of(mto), "ingressclasses") is view.ALL
    quota = {
        "metadata": {"name": "kubetenancy-tenant-quota", "annotations": {"kubetenancy.dev/quota": "q"}},
        "spec": {"hard": {"pods": "10", "requests.cpu": "2"}},
        "status": {"used": {"pods": "3", "requests.cpu": "500m"}},
    }
    assert view.quota_rows([quota, quota]) == [("q", "pods", "6", "10"), ("q", "requests.cpu", "1", "2")]
    assert view.table(("NAME", "ROLE"), [("logistics", "owner")]) == "NAME        ROLE\nlogistics   owner"
