"""Rules about pods' safety in tenant namespaces. Pure.

- `pod_security_not_looser`: a Tenant's (or Kiosk Account's) namespace metadata may ask for a Pod Security
  level (`pod-security.kubernetes.io/enforce`), but only a known one, and never one looser than the
  IntegrationConfig's: the operator would not honour it, so it is refused where it is written.
- `always_pull_images`: every container of a new pod gets `imagePullPolicy: Always`, as Kubernetes'
  AlwaysPullImages admission plugin does. It is a default the tenant cannot opt out of (a mutation, not a
  refusal), applied only in namespaces the operator labels while the IntegrationConfig asks for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubetenancy.admission.decision import Decision, Request
from kubetenancy.admission.view import TenancyView
from kubetenancy.desired.pod_security import ENFORCE, LEVELS, looser_than

CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


def _asked(request: Request) -> Iterator[tuple[str, str]]:
    """(field path, level) of every Pod Security label the resource's namespace metadata sets."""
    spec: dict[str, Any] = request.obj.get("spec") or {}
    if request.kind == "Account":
        template = ((spec.get("space") or {}).get("spaceTemplate") or {}).get("metadata") or {}
        places = [("spec.space.spaceTemplate.metadata", template)]
    else:
        metadata = (spec.get("namespaces") or {}).get("metadata") or {}
        places = [(f"spec.namespaces.metadata.{part}", metadata.get(part) or {}) for part in ("common", "sandbox")]
        places += [
            (f"spec.namespaces.metadata.specific[{i}]", item) for i, item in enumerate(metadata.get("specific") or [])
        ]
    for path, place in places:
        level = (place.get("labels") or {}).get(ENFORCE)
        if level is not None:
            yield f"{path}.labels[{ENFORCE}]", str(level)


def pod_security_not_looser(request: Request, view: TenancyView) -> Decision:
    floor = view.policy.pod_security
    causes = []
    for path, level in _asked(request):
        if level not in LEVELS:
            supported = ", ".join(f'"{known}"' for known in LEVELS)
            causes.append(f'{path}: Unsupported value: "{level}": supported values: {supported}')
        elif looser_than(level, floor):
            causes.append(
                f'{path}: Invalid value: "{level}": looser than the cluster\'s Pod Security level "{floor}" '
                "(IntegrationConfig spec.tenantPolicies.podSecurity.level): a tenant may only ask for a stricter one"
            )
    if not causes:
        return Decision.allow()
    return Decision.invalid(f'{request.kind}.{request.group} "{request.name}" is invalid: {"; ".join(causes)}')


def always_pull_images(request: Request, view: TenancyView) -> Decision:
    """JSON Patch setting imagePullPolicy: Always on each container that has another (or none)."""
    if request.operation != "CREATE" or request.kind != "Pod" or not view.policy.always_pull_images:
        return Decision.allow()
    patch = []
    spec = request.obj.get("spec") or {}
    for field in CONTAINER_LISTS:
        for index, container in enumerate(spec.get(field) or []):
            if container.get("imagePullPolicy") != "Always":
                op = "replace" if "imagePullPolicy" in container else "add"
                patch.append({"op": op, "path": f"/spec/{field}/{index}/imagePullPolicy", "value": "Always"})
    return Decision.mutate(patch) if patch else Decision.allow()
