"""The webhook configuration is scoped, and the README documents every webhook's failure policy."""

from __future__ import annotations

from pathlib import Path

from kubetenancy.admission.registry import registry
from kubetenancy.admission.view import TenancyView
from kubetenancy.api import SERVED_CRDS
from kubetenancy.desired.webhooks import configuration
from kubetenancy.operator.quota_ledger import QuotaLedger

README = Path(__file__).parents[2] / "README.md"


def test_namespaced_webhooks_only_see_tenant_namespaces() -> None:
    config = configuration(
        [r.spec for r in registry("multi-tenant-operator", QuotaLedger(TenancyView()))],
        lambda path: {"url": f"https://x{path}"},
    )
    for webhook in config["webhooks"]:
        scopes = {rule["resources"][0] for rule in webhook["rules"]}
        own_kinds = {kind.plural for versions in SERVED_CRDS for kind in versions}
        cluster_scoped = all(rule["scope"] == "Cluster" for rule in webhook["rules"])
        if not scopes <= {*own_kinds, "namespaces"} and not cluster_scoped:  # own kinds need no selector
            assert "namespaceSelector" in webhook, webhook["name"]
        assert webhook["clientConfig"]["url"].startswith("https://x/validate/")
    namespaces = next(w for w in config["webhooks"] if w["name"] == "namespaces.kubetenancy.dev")
    excluded = namespaces["objectSelector"]["matchExpressions"][0]["values"]
    assert {"kube-system", "kube-public", "kube-node-lease", "default", "multi-tenant-operator"} <= set(excluded)


def test_readme_documents_each_webhook_and_its_failure_policy() -> None:
    rows = [line for line in README.read_text().splitlines() if line.startswith("| `") and ".kubetenancy.dev`" in line]
    documented = {row.split("|")[1].strip(" `"): row.split("|")[3].strip() for row in rows}
    served = {r.spec.name: r.spec.failure_policy for r in registry("multi-tenant-operator", QuotaLedger(TenancyView()))}
    assert documented == served


def test_the_reservation_webhook_sees_creates_of_what_some_quota_limits_only() -> None:
    specs = [r.spec for r in registry("multi-tenant-operator", QuotaLedger(TenancyView()))]

    def reserved(*limited: str) -> list[dict[str, object]]:
        config = configuration(specs, lambda path: {"url": f"https://x{path}"}, frozenset(limited))
        (webhook,) = [w for w in config["webhooks"] if w["name"] == "tenant-quota-reserve.kubetenancy.dev"]
        return [{"group": r["apiGroups"][0], "resources": r["resources"]} for r in webhook["rules"]]

    assert reserved() == []
    assert reserved("requests.cpu", "limits.memory", "pods") == [{"group": "", "resources": ["pods"]}]
    assert reserved("count/configmaps", "secrets", "services.loadbalancers") == [
        {"group": "", "resources": ["configmaps", "secrets", "services"]}
    ]
    assert reserved("fast.storageclass.storage.k8s.io/requests.storage", "count/deployments.apps") == [
        {"group": "", "resources": ["persistentvolumeclaims"]},
        {"group": "apps", "resources": ["deployments"]},
    ]
    assert reserved("something.else") == []
