"""The typed-spec admission rule answers like the API server's own validation."""

from __future__ import annotations

from typing import Any

from kubetenancy.admission import Request
from kubetenancy.admission.typed_spec import validate_spec
from kubetenancy.api.tenantoperator import QUOTA_V1BETA1


def request(spec: dict[str, Any]) -> Request:
    return Request(
        operation="CREATE",
        kind="Quota",
        group="tenantoperator.stakater.com",
        name="small",
        namespace=None,
        user="alice",
        groups=(),
        obj={"spec": spec},
    )


def test_valid_spec_is_allowed() -> None:
    spec = {"resourcequota": {"hard": {"pods": 10}}, "limitrange": {"limits": [{"type": "Container"}]}}
    assert validate_spec(request(spec), QUOTA_V1BETA1).allowed


def test_each_problem_is_named_with_its_path() -> None:
    spec = {
        "resourcequota": {"hard": {"requests.cpu": "lots"}},
        "limitrange": {"limits": [{"type": "Container"}, {"type": "Pod", "default": {"cpu": "1"}}]},
    }
    decision = validate_spec(request(spec), QUOTA_V1BETA1)
    assert not decision.allowed
    assert decision.message.startswith('Quota.tenantoperator.stakater.com "small" is invalid: ')
    assert "spec.resourcequota.hard.requests.cpu: Invalid value: " in decision.message
    assert "spec.limitrange.limits[1]: Invalid value: default and defaultRequest may not be specified" in (
        decision.message
    )
