"""Rule: a ClusterProfile created by a ServiceAccount is that tenant admin's, and says so in its labels.

What Sveltos' docs do with a Kyverno policy: the labels projectsveltos.io/serviceaccount-name and
-namespace are stamped on a ClusterProfile a ServiceAccount creates, and the profile is then deployed with
that tenant admin's rights only. Unlike the Kyverno policy (which only adds missing labels), a tenant can
neither claim another admin's identity, nor drop the labels, nor take over a profile that is not its own.
Cluster admins (bypassing groups, system:masters) set the labels freely; that bypass happens before this
rule runs. Other users may not set or change them. Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

from kubetenancy.admission.decision import Decision, Request
from kubetenancy.admission.view import TenancyView
from kubetenancy.frontdoors.sveltos import SERVICE_ACCOUNT_NAME_LABEL, SERVICE_ACCOUNT_NAMESPACE_LABEL
from kubetenancy.frontdoors.table import CLUSTER_PROFILE

SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"
LABELS = (SERVICE_ACCOUNT_NAME_LABEL, SERVICE_ACCOUNT_NAMESPACE_LABEL)


def _claim(obj: dict[str, Any]) -> tuple[str | None, str | None]:
    labels = obj.get("metadata", {}).get("labels") or {}
    return labels.get(SERVICE_ACCOUNT_NAME_LABEL), labels.get(SERVICE_ACCOUNT_NAMESPACE_LABEL)


def _whose(claim: tuple[str | None, str | None]) -> str:
    name, namespace = claim
    return "the platform admin" if name is None and namespace is None else f"tenant admin {namespace}/{name}"


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def stamp_tenant_admin(request: Request, view: TenancyView) -> Decision:
    forbidden = f'{CLUSTER_PROFILE.served.crd_name} "{request.name}" is forbidden'
    old = _claim(request.old) if request.operation == "UPDATE" else (None, None)
    new = _claim(request.obj)
    if not request.user.startswith(SERVICE_ACCOUNT_PREFIX):
        if new != old:
            return Decision.deny(
                f'{forbidden}: User "{request.user}" may not set or change the labels {LABELS[0]} and {LABELS[1]}: '
                "only cluster admins may; a ServiceAccount's own ClusterProfiles get them automatically"
            )
        return Decision.allow()
    namespace, _, name = request.user.removeprefix(SERVICE_ACCOUNT_PREFIX).partition(":")
    own = (name, namespace)
    if request.operation == "UPDATE" and old != own:
        return Decision.deny(
            f"{forbidden}: it is {_whose(old)}'s; ServiceAccount {namespace}/{name} may change only its own "
            "ClusterProfiles"
        )
    if any(value is not None and value != mine for value, mine in zip(new, own, strict=True)):
        return Decision.deny(
            f"{forbidden}: ServiceAccount {namespace}/{name} cannot deploy as {_whose(new)}: leave the labels "
            f"{LABELS[0]} and {LABELS[1]} out (they are set to its own identity) or set them to its own"
        )
    if new == own:
        return Decision.allow()
    labels = request.obj.get("metadata", {}).get("labels")
    if labels is None:
        return Decision.mutate(
            [{"op": "add", "path": "/metadata/labels", "value": {LABELS[0]: name, LABELS[1]: namespace}}]
        )
    return Decision.mutate(
        [
            {"op": "add", "path": f"/metadata/labels/{_escape(key)}", "value": value}
            for key, value in ((LABELS[0], name), (LABELS[1], namespace))
        ]
    )
