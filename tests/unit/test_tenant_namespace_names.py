"""Tenant namespace names are checked at admission, with the field that produced them (pure)."""

from __future__ import annotations

from typing import Any

from kubetenancy.admission import Request
from kubetenancy.admission.tenant_namespace_names import namespace_names_must_be_valid
from kubetenancy.admission.view import TenancyView
from kubetenancy.names import dns_label_problems


def tenant(name: str, spec: dict[str, Any]) -> Request:
    obj = {"metadata": {"name": name}, "spec": {"quota": "q", **spec}}
    return Request(operation="CREATE", kind="Tenant", group="", name=name, namespace=None, user="a", groups=(), obj=obj)


def test_dns_labels() -> None:
    assert dns_label_problems("dev-1") == []
    assert "RFC 1123" in dns_label_problems("Dev_Ns")[0]
    assert dns_label_problems("a" * 64) == ["must be no more than 63 characters"]
    assert dns_label_problems("-x")
    assert dns_label_problems("")


def test_prefixed_names_are_judged_with_their_prefix() -> None:
    refused = namespace_names_must_be_valid(
        tenant("retail", {"namespaces": {"withTenantPrefix": ["Dev_Ns"]}}), TenancyView()
    )
    assert refused.code == 422
    assert refused.message.startswith(
        'Tenant.tenantoperator.stakater.com "retail" is invalid: spec.namespaces.withTenantPrefix[0]: '
        'Invalid value: "Dev_Ns": namespace "retail-Dev_Ns": a lowercase RFC 1123 label'
    )
    # 56 characters fit alone, not after the 7 of "retail-" plus one.
    long = "x" * 57
    refused = namespace_names_must_be_valid(
        tenant("retail", {"namespaces": {"withTenantPrefix": [long]}}), TenancyView()
    )
    assert f'namespace "retail-{long}": must be no more than 63 characters' in refused.message
    assert namespace_names_must_be_valid(
        tenant("retail", {"namespaces": {"withTenantPrefix": ["x" * 56], "withoutTenantPrefix": ["ok"]}}), TenancyView()
    ).allowed


def test_verbatim_names_and_sandboxes() -> None:
    spec = {"namespaces": {"withoutTenantPrefix": ["ok", "Not.Ok"]}}
    refused = namespace_names_must_be_valid(tenant("t", spec), TenancyView())
    assert 'spec.namespaces.withoutTenantPrefix[1]: Invalid value: "Not.Ok": a lowercase' in refused.message
    user = "someone-with-a-really-long-name@a-rather-long-domain.example.com"
    spec = {
        "namespaces": {"sandboxes": {"enabled": True}},
        "accessControl": {"owners": {"users": ["falcon@nordmart.com"]}, "viewers": {"users": [user]}},
    }
    refused = namespace_names_must_be_valid(tenant("logistics", spec), TenancyView())
    assert f'spec.accessControl.viewers.users[0]: Invalid value: "{user}": namespace "logistics-' in refused.message
    assert "owners" not in refused.message
    spec["namespaces"] = {"sandboxes": {"enabled": False}}
    assert namespace_names_must_be_valid(tenant("logistics", spec), TenancyView()).allowed
