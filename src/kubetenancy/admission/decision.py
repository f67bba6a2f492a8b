"""What every admission rule receives and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from kubetenancy.frontdoors.table import Door

M = TypeVar("M")


@dataclass(frozen=True)
class Request:
    """The parts of an AdmissionReview request the rules look at."""

    operation: str
    kind: str
    group: str
    name: str
    namespace: str | None
    user: str
    groups: tuple[str, ...]
    obj: dict[str, Any] = field(default_factory=dict)
    old: dict[str, Any] = field(default_factory=dict)

    subresource: str = ""
    resource: str = ""
    """The plural resource name, e.g. pods."""
    dry_run: bool = False

    @property
    def labels(self) -> dict[str, str]:
        labels: dict[str, str] = (self.obj or self.old).get("metadata", {}).get("labels") or {}
        return labels

    def model(self, door: Door[M]) -> M:
        """The request's object through its kind's front door (rules run after the typed-spec check)."""
        metadata = {**(self.obj.get("metadata") or {}), "name": self.name}
        return door.read({**self.obj, "metadata": metadata})

    @classmethod
    def from_review(cls, review: dict[str, Any]) -> Request:
        """Decode an AdmissionReview's request once."""
        request = review["request"]
        user = request.get("userInfo", {})
        return cls(
            operation=request["operation"],
            kind=request["kind"]["kind"],
            group=request["kind"].get("group", ""),
            name=request.get("name") or (request.get("object") or {}).get("metadata", {}).get("name", ""),
            namespace=request.get("namespace") or None,
            user=user.get("username", ""),
            groups=tuple(user.get("groups") or ()),
            obj=request.get("object") or {},
            old=request.get("oldObject") or {},
            subresource=request.get("subResource") or "",
            resource=(request.get("resource") or {}).get("resource", ""),
            dry_run=bool(request.get("dryRun")),
        )


@dataclass(frozen=True)
class Missing:
    """An object a rule did not find in the view, which may exist all the same (created a moment ago)."""

    api_version: str
    kind: str
    name: str | None
    """None: every object of the kind in `namespace`."""
    namespace: str | None = None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    message: str = ""
    code: int = 403
    reason: str = "Forbidden"
    patch: tuple[dict[str, Any], ...] = ()
    """JSON Patch operations a mutating webhook applies to the object (allowed decisions only)."""
    missing: tuple[Missing, ...] = ()
    """Objects this decision was made without, because the view has not seen them: the webhook server reads
    them once (the view may lag behind the API server) and asks the rules again if any exist."""
    warnings: tuple[str, ...] = ()
    """Shown by kubectl as `Warning: ...` (allowed or not)."""

    @classmethod
    def allow(cls) -> Decision:
        return cls(True)

    @classmethod
    def mutate(cls, patch: list[dict[str, Any]]) -> Decision:
        """Allowed once the object is changed by these JSON Patch (RFC 6902) operations."""
        return cls(True, patch=tuple(patch))

    @classmethod
    def warn(cls, messages: list[str]) -> Decision:
        """Allowed, with warnings for the client (none: a plain allow)."""
        return cls(True, warnings=tuple(messages))

    @classmethod
    def deny(cls, message: str) -> Decision:
        """Refused for who is asking or what it would do (HTTP 403)."""
        return cls(False, message)

    @classmethod
    def invalid(cls, message: str, *missing: Missing) -> Decision:
        """Refused because the object itself is wrong (HTTP 422); `missing`: what it names does not exist."""
        return cls(False, message, 422, "Invalid", missing=missing)
