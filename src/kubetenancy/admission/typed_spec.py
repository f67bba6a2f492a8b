"""Rule: a served custom resource must parse into its typed model.

The CRD schema already checks shapes; the models add the rules a schema cannot say (for example that a
Pod LimitRange item takes no defaults). The message reads like the API server's own validation errors.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from kubetenancy.admission.decision import Decision, Request
from kubetenancy.api.crd import ServedKind


def _path(root: str, location: tuple[int | str, ...]) -> str:
    path = root
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    return path


def _problems(model: type[BaseModel], value: dict[str, Any], root: str) -> list[str]:
    try:
        model.model_validate(value)
    except ValidationError as error:
        return [
            f"{_path(root, item['loc'])}: Invalid value: {item['msg'].removeprefix('Value error, ')}"
            for item in error.errors()
        ]
    return []


def validate_spec(request: Request, kind: ServedKind) -> Decision:
    """Check the spec, and the fields some kinds keep beside it (or instead of one, as Kiosk's Template)."""
    causes = []
    if kind.spec is not None:
        causes += _problems(kind.spec, request.obj.get("spec") or {}, "spec")
    if kind.top_level is not None:
        names = {field.alias or name for name, field in kind.top_level.model_fields.items()}
        causes += _problems(kind.top_level, {k: v for k, v in request.obj.items() if k in names}, "")
    if causes:
        return Decision.invalid(f'{kind.kind}.{kind.group} "{request.name}" is invalid: {"; ".join(causes)}')
    return Decision.allow()
