"""Owners may edit their namespaces, not the labels kubetenancy keeps (pure)."""

from __future__ import annotations

from kubetenancy.admission import Request
from kubetenancy.admission.namespace_managed_labels import managed_labels_unchanged
from kubetenancy.admission.view import TenancyView


def update(old: dict[str, str], new: dict[str, str]) -> Request:
    return Request(
        operation="UPDATE", kind="Namespace", group="", name="t-dev", namespace=None, user="owner", groups=(),
        obj={"metadata": {"labels": new}}, old={"metadata": {"labels": old}},
    )  # fmt: skip


def test_owners_keep_off_kubetenancys_labels() -> None:
    base = {"kubetenancy.dev/tenant": "t", "pod-security.kubernetes.io/enforce": "baseline"}
    assert managed_labels_unchanged(update(base, {**base, "team": "a"}), TenancyView()).allowed
    refused = managed_labels_unchanged(
        update(base, {**base, "pod-security.kubernetes.io/enforce": "privileged"}), TenancyView()
    )
    assert refused.message == (
        'namespaces "t-dev" is forbidden: User "owner" may not change the label(s) pod-security.kubernetes.io/enforce: '
        "kubetenancy keeps them (ask a cluster administrator)"
    )
    removed = {k: v for k, v in base.items() if not k.startswith("pod-security")}
    assert not managed_labels_unchanged(update(base, removed), TenancyView()).allowed
    assert not managed_labels_unchanged(update(base, {**base, "kiosk.sh/account": "other"}), TenancyView()).allowed
    # Namespaces of no tenant are not kubetenancy's to guard.
    plain = {"pod-security.kubernetes.io/enforce": "baseline"}
    assert managed_labels_unchanged(
        update(plain, {"pod-security.kubernetes.io/enforce": "privileged"}), TenancyView()
    ).allowed
