"""The optional components an IntegrationConfig enables (the console, showback's prices), as the engine sees
them. Pure data.

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


@dataclass(frozen=True)
class PriceList:
    """What an hour of each resource costs (OpenCost's custom pricing). The defaults are OpenCost's own default
    custom prices (`configs/default.json`, "based on GCP us-central1")."""

    cpu: float = 0.031611
    """One CPU core."""
    spot_cpu: float = 0.006655
    ram: float = 0.004237
    """One GiB (2^30 bytes) of memory."""
    spot_ram: float = 0.000892
    gpu: float = 0.95
    """One GPU."""
    storage: float = 0.00005479452
    """One GiB of requested storage (0.04 a GiB-month of 730 hours)."""
