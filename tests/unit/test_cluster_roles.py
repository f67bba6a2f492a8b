"""The cluster-wide roles the operator keeps: tenants' own kinds reach them through Kubernetes' roles."""

from __future__ import annotations

from kubetenancy.desired.cluster import tenant_kind_roles


def test_tenants_apply_template_instances_through_kubernetes_own_roles() -> None:
    edit, view = tenant_kind_roles([("config.kiosk.sh", "templateinstances")])
    assert edit["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-admin"] == "true"
    assert edit["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-edit"] == "true"
    assert "create" in edit["rules"][0]["verbs"]
    assert view["metadata"]["labels"] == {
        "rbac.authorization.k8s.io/aggregate-to-view": "true", "app.kubernetes.io/managed-by": "kubetenancy"
    }  # fmt: skip
    assert view["rules"] == [
        {"apiGroups": ["config.kiosk.sh"], "resources": ["templateinstances"], "verbs": ["get", "list", "watch"]}
    ]
