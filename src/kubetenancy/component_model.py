"""The optional components an IntegrationConfig enables (the console), as the engine sees them. Pure data.

The front door (`frontdoors/components.py`) makes these from `spec.components`; `desired/console.py`
turns them into objects. Nothing here knows the served API's shape.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    """One Ingress host (and the Secret with its TLS certificate, if any)."""

    host: str
    tls_secret: str | None = None


@dataclass(frozen=True)
class ConsoleComponent:
    """The console is wanted, with these Ingress hosts (none: no Ingress)."""

    console: Route | None = None
    gateway: Route | None = None
    keycloak: Route | None = None
    ingress_class: str | None = None

    @property
    def public_url(self) -> str | None:
        return f"https://{self.console.host}" if self.console else None
