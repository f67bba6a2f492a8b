"""Which namespace events ask the tenant engine for a pass (pure bookkeeping, no cluster)."""

from __future__ import annotations

from kubetenancy.frontdoors.tenantoperator import quota_from_cr, tenant_from_cr
from kubetenancy.model import TENANT_LABEL
from kubetenancy.operator.tenancy_index import TenancyIndex

ENFORCE = "pod-security.kubernetes.io/enforce"
QUOTA = quota_from_cr("small", {"resourcequota": {"hard": {"pods": "5"}}})


def index_with_tenant() -> TenancyIndex:
    index = TenancyIndex()
    tenant = tenant_from_cr("psa", {"quota": "small", "namespaces": {"withTenantPrefix": ["dev"]}}, QUOTA)
    index.put_tenant(tenant, "Tenant.tenantoperator.stakater.com")
    return index


def labels(**extra: str) -> dict[str, str]:
    return {TENANT_LABEL: "psa", ENFORCE: "baseline", **extra}


def test_a_spec_namespace_appearing_or_gaining_other_labels_needs_no_pass() -> None:
    index = index_with_tenant()
    assert index.namespace_seen("psa-dev", labels(), deleted=False) == []
    assert index.namespace_seen("psa-dev", labels(team="web"), deleted=False) == []


def test_a_spec_namespace_whose_kept_label_moved_needs_a_pass() -> None:
    index = index_with_tenant()
    index.namespace_seen("psa-dev", labels(), deleted=False)
    assert index.namespace_seen("psa-dev", labels(**{ENFORCE: "privileged"}), deleted=False) == ["psa"]
    assert index.namespace_seen("psa-dev", labels(), deleted=False) == ["psa"]
    assert index.namespace_seen("psa-dev", labels(), deleted=False) == [], "no change, no pass"


def test_a_namespace_claimed_by_label_needs_a_pass_on_any_change() -> None:
    index = index_with_tenant()
    assert index.namespace_seen("psa-owned", labels(), deleted=False) == ["psa"]
    assert index.namespace_seen("psa-owned", labels(team="web"), deleted=False) == ["psa"]
    assert index.namespace_seen("psa-owned", {}, deleted=False) == ["psa"]
