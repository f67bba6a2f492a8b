"""Label and field selectors read as the API server reads them."""

from __future__ import annotations

from typing import Any

import pytest

from kubetenancy.apiserver.selectors import Predicate, SelectorError, field_selector, label_selector, selected


def namespace(name: str, phase: str = "Active", **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels}, "status": {"phase": phase}}


TEAM_A = namespace("a", team="a", tier="web")
TEAM_B = namespace("b", team="b")
NO_LABELS = namespace("c", "Terminating")


def names(matches: Predicate) -> set[str]:
    return {ns["metadata"]["name"] for ns in (TEAM_A, TEAM_B, NO_LABELS) if matches(ns)}


@pytest.mark.parametrize(
    ("selector", "matching"),
    [
        ("team=a", {"a"}),
        ("team==a", {"a"}),
        ("team!=a", {"b", "c"}),  # no label at all is "not a", as in Kubernetes
        ("team", {"a", "b"}),
        ("!team", {"c"}),
        ("team in (a, b)", {"a", "b"}),
        ("team notin (a)", {"b", "c"}),
        ("team in (a,b),tier", {"a"}),
        ("team, !tier", {"b"}),
        ("", {"a", "b", "c"}),
    ],
)
def test_label_selectors(selector: str, matching: set[str]) -> None:
    assert names(label_selector(selector)) == matching


@pytest.mark.parametrize(
    ("selector", "matching"),
    [
        ("metadata.name=a", {"a"}),
        ("metadata.name!=a", {"b", "c"}),
        ("status.phase==Terminating", {"c"}),
        ("metadata.name!=a,status.phase=Active", {"b"}),
    ],
)
def test_field_selectors(selector: str, matching: set[str]) -> None:
    assert names(field_selector(selector)) == matching


def test_both_selectors_of_a_request_apply() -> None:
    assert names(selected({"labelSelector": "team", "fieldSelector": "metadata.name!=a"})) == {"b"}
    assert names(selected({})) == {"a", "b", "c"}


@pytest.mark.parametrize("selector", ["team in a", "team=(a)", "=a", "team in (a"])
def test_unreadable_label_selectors_say_what_is_expected(selector: str) -> None:
    with pytest.raises(SelectorError, match="unable to parse requirement"):
        label_selector(selector)


def test_unreadable_field_selectors_say_what_is_expected() -> None:
    with pytest.raises(SelectorError, match="path=value"):
        field_selector("metadata.name in (a)")
