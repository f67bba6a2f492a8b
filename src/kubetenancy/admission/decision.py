"""What every admission rule receives and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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


@dataclass(frozen=True)
class Decision:
    allowed: bool
    message: str = ""

    @classmethod
    def allow(cls) -> Decision:
        return cls(True)

    @classmethod
    def deny(cls, message: str) -> Decision:
        return cls(False, message)
