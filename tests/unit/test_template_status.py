"""Which namespaces an instance targets, and the status each API shows for a pass (no cluster)."""

from __future__ import annotations

from typing import Any

import pytest

from kubetenancy.frontdoors import kiosk_templates as kiosk
from kubetenancy.frontdoors import tenantoperator_templates as mto
from kubetenancy.operator.template_status import (
    Outcome,
    Pass,
    group_status,
    kiosk_instance_status,
    mto_instance_status,
    read,
)
from kubetenancy.reconciling import merge_patch
from kubetenancy.template_model import LabelSelector, Requirement

NOW = "2026-01-02T03:04:05Z"
KIOSK_TI = kiosk.instance_from_cr(
    {"metadata": {"name": "ti", "namespace": "space", "uid": "u"}, "spec": {"template": "space-template"}}
)
TEMPLATE = kiosk.template_from_cr({"metadata": {"name": "space-template", "resourceVersion": "42"}})


def group(selector: dict[str, Any]) -> Any:
    cr = {"kind": "TemplateGroupInstance", "metadata": {"name": "g", "uid": "u", "generation": 3}}
    return mto.instance_from_cr({**cr, "spec": {"template": "t", "selector": selector}})


@pytest.mark.parametrize(
    ("requirement", "labels", "matches"),
    [
        (Requirement("kind", "In", ("build", "test")), {"kind": "build"}, True),
        (Requirement("kind", "In", ("build",)), {"kind": "prod"}, False),
        (Requirement("kind", "In", ("build",)), {}, False),
        (Requirement("kind", "NotIn", ("build",)), {}, True),
        (Requirement("kind", "NotIn", ("build",)), {"kind": "build"}, False),
        (Requirement("stakater.com/tenant", "Exists"), {"stakater.com/tenant": "a"}, True),
        (Requirement("stakater.com/tenant", "Exists"), {}, False),
        (Requirement("x", "DoesNotExist"), {}, True),
        (Requirement("x", "DoesNotExist"), {"x": ""}, False),
    ],
)
def test_selector_requirements(requirement: Requirement, labels: dict[str, str], matches: bool) -> None:
    assert LabelSelector(requirements=(requirement,)).matches(labels) is matches


def test_a_group_instance_targets_every_matching_namespace() -> None:
    namespaces = {
        "alpha-dev": {"stakater.com/tenant": "alpha", "kind": "build"},
        "beta-dev": {"stakater.com/tenant": "beta", "kind": "build"},
        "gamma-dev": {"stakater.com/tenant": "gamma", "kind": "build"},
        "alpha-prod": {"stakater.com/tenant": "alpha"},
    }
    tenants = {"key": "stakater.com/tenant", "operator": "In", "values": ["alpha", "beta"]}
    selector = {"matchLabels": {"kind": "build"}, "matchExpressions": [tenants]}
    assert group(selector).targets(namespaces) == ["alpha-dev", "beta-dev"]
    assert group({}).targets(namespaces) == sorted(namespaces), "an empty selector matches every namespace"
    assert KIOSK_TI.targets(namespaces) == []
    assert KIOSK_TI.targets({"space": {}}) == ["space"]


def test_kiosk_status_when_deployed_and_when_it_fails_later() -> None:
    deployed = Outcome("Deployed", fingerprint="f1", manifests="kind: LimitRange\n", applied=True)
    first = kiosk_instance_status(KIOSK_TI, {}, Pass({"space": deployed}, set(), TEMPLATE), NOW)
    assert first == {
        "status": "Deployed",
        "templateManifests": "kind: LimitRange\n",
        "templateHash": "f1",
        "observedAt": NOW,
        "templateResourceVersion": "42",
    }
    again = Outcome("Deployed", fingerprint="f1", manifests="kind: LimitRange\n")
    assert kiosk_instance_status(KIOSK_TI, first, Pass({"space": again}, set(), TEMPLATE), "later") == first
    failed = Outcome("Failed", "ParameterRequired", 'parameter "DB" is required')
    after = kiosk_instance_status(KIOSK_TI, first, Pass({"space": failed}, set(), TEMPLATE), NOW)
    assert after == {
        "status": "Failed",
        "reason": "ParameterRequired",
        "message": 'parameter "DB" is required',
        "templateManifests": "kind: LimitRange\n",
        "templateHash": "f1",
        "templateResourceVersion": "42",
    }
    assert merge_patch(first, after) == {
        "status": "Failed",
        "reason": "ParameterRequired",
        "message": 'parameter "DB" is required',
        "observedAt": None,
    }


def test_an_instance_wide_problem_and_a_namespace_going_away() -> None:
    missing = Pass({}, set(), problem=("TemplateNotFound", "The specified template 'x' couldn't be found."))
    assert kiosk_instance_status(KIOSK_TI, {}, missing, NOW) == {
        "status": "Failed",
        "reason": "TemplateNotFound",
        "message": "The specified template 'x' couldn't be found.",
    }
    current = {"status": "Deployed"}
    assert kiosk_instance_status(KIOSK_TI, current, Pass({}, set(), TEMPLATE), NOW) == current


def test_mto_instance_status_lists_its_copies() -> None:
    ti = mto.instance_from_cr(
        {
            "kind": "TemplateInstance",
            "metadata": {"name": "ti", "namespace": "ns", "uid": "u"},
            "spec": {"template": "t"},
        }
    )
    outcome = Outcome(
        "Failed", "MappingFailed", "example/registry: not found", secrets={"example/registry": ("Failed", "not found")}
    )
    status = mto_instance_status(ti, {}, Pass({"ns": outcome}, set(), TEMPLATE), NOW)
    assert status["mappedSecrets"] == {"example/registry": {"status": "Failed", "reason": "not found"}}
    assert status["mappedConfigmaps"] == {}
    assert "templateResourceVersion" not in status


def test_group_status_reports_every_namespace_and_reads_back() -> None:
    instance = group({"matchLabels": {"kind": "build"}})
    outcomes = {
        "b": Outcome("Failed", "ObjectAlreadyExists", 'ConfigMap "x" already exists', fingerprint="h2"),
        "a": Outcome("Deployed", fingerprint="h1", secrets={"example/registry": ("Deployed", "")}),
    }
    status = group_status(instance, {}, Pass(outcomes, {("v1", "ConfigMap"), ("v1", "Secret")}, TEMPLATE), NOW)
    (ready,) = status["conditions"]
    assert (ready["status"], ready["reason"], ready["observedGeneration"]) == ("False", "DeployFailed", 3)
    assert ready["message"] == 'failed in 1 of 2 namespace(s): b: ConfigMap "x" already exists'
    assert status["deployedNamespaces"] == {
        "a": {"status": "Deployed", "hash": "h1"},
        "b": {"status": "Failed", "hash": "h2", "message": 'ConfigMap "x" already exists'},
    }
    assert status["mappedSecrets"] == {"a": {"example/registry": {"status": "Deployed"}}}
    assert status["namespaceCount"] == 2
    assert status["kinds"] == ["v1/ConfigMap", "v1/Secret"]
    previous = read(instance, status)
    assert previous.kinds == {("v1", "ConfigMap"), ("v1", "Secret")}
    assert previous.outcomes["a"].fingerprint == "h1"
    assert previous.outcomes["a"].secrets == {"example/registry": ("Deployed", "")}
    healthy = group_status(instance, status, Pass({"a": outcomes["a"]}, set(), TEMPLATE), NOW)
    assert healthy["conditions"][0]["reason"] == "Deployed"
    assert merge_patch(status, healthy)["deployedNamespaces"] == {"b": None}


def test_merge_patch_is_empty_when_nothing_changed() -> None:
    status = {"a": {"b": 1, "c": [1, 2]}, "d": "x"}
    assert merge_patch(status, status) == {}
    assert merge_patch(status, {"a": {"b": 2, "c": [1, 2]}}) == {"a": {"b": 2}, "d": None}
