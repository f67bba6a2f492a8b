"""Rule: every namespace a Tenant asks for must be able to exist. Pure.

`withTenantPrefix` names become `<tenant>-<name>`, `withoutTenantPrefix` names are taken as written and
sandboxes are `<tenant>-<user>-sandbox`: each must be a DNS label of at most 63 characters, or the Tenant
would be accepted and then sit `READY False ApplyFailed`. The refusal names the field that produced the
name. It must not rename anything: a name that does not fit is the author's to change.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubetenancy.admission.decision import Decision, Request
from kubetenancy.admission.view import TenancyView
from kubetenancy.frontdoors.tenantoperator import sandbox_name
from kubetenancy.names import dns_label_problems

TIER_FIELDS = ("owners", "editors", "viewers")


def _asked(tenant: str, spec: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(field path, value written there, namespace name it becomes) for each namespace of the spec."""
    namespaces = spec.get("namespaces") or {}
    for index, name in enumerate(namespaces.get("withTenantPrefix") or []):
        yield f"spec.namespaces.withTenantPrefix[{index}]", str(name), f"{tenant}-{name}"
    for index, name in enumerate(namespaces.get("withoutTenantPrefix") or []):
        yield f"spec.namespaces.withoutTenantPrefix[{index}]", str(name), str(name)
    if not (namespaces.get("sandboxes") or {}).get("enabled"):
        return
    access = spec.get("accessControl") or {}
    for tier in TIER_FIELDS:
        for index, user in enumerate((access.get(tier) or {}).get("users") or []):
            yield f"spec.accessControl.{tier}.users[{index}]", str(user), sandbox_name(tenant, str(user))


def namespace_names_must_be_valid(request: Request, view: TenancyView) -> Decision:
    causes = []
    for path, written, namespace in _asked(request.name, request.obj.get("spec") or {}):
        problems = dns_label_problems(namespace)
        if problems:
            becomes = "" if written == namespace else f'namespace "{namespace}": '
            causes.append(f'{path}: Invalid value: "{written}": {becomes}{"; ".join(problems)}')
    if not causes:
        return Decision.allow()
    return Decision.invalid(
        f'Tenant.tenantoperator.stakater.com "{request.name}" is invalid: {"; ".join(causes)} '
        "(tenant namespaces must be valid namespace names: choose a shorter or lowercase name)"
    )
