"""Rule: a served custom resource must parse into its typed model.

The CRD schema already checks shapes; the models add the rules a schema cannot say (for example that a
Pod LimitRange item takes no defaults). The message reads like the API server's own validation errors.
"""

from __future__ import annotations

from pydantic import ValidationError

from kubetenancy.admission.decision import Decision, Request
from kubetenancy.api.crd import ServedKind


def _path(location: tuple[int | str, ...]) -> str:
    path = "spec"
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def validate_spec(request: Request, kind: ServedKind) -> Decision:
    if kind.spec is None:
        return Decision.allow()
    try:
        kind.spec.model_validate(request.obj.get("spec") or {})
    except ValidationError as error:
        causes = []
        for item in error.errors():
            reason = item["msg"].removeprefix("Value error, ")
            causes.append(f"{_path(item['loc'])}: Invalid value: {reason}")
        return Decision.invalid(f'{kind.kind}.{kind.group} "{request.name}" is invalid: {"; ".join(causes)}')
    return Decision.allow()
