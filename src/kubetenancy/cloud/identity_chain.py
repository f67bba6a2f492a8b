"""Walking a CAPA identity's `sourceIdentityRef` chain, as CAPA's `buildProvidersForRef` does. Pure.

A cluster's identity comes first, then the identity whose credentials assume its role, and so on down to
a controller or static identity (or a role with no source: the controller's own credentials). CAPA
checks each hop's `allowedNamespaces` in that order and stops at the first that refuses; it has no cycle
detection (a loop recurses until the controller fails), so a loop is reported here as a problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kubetenancy.cloud.allowed_namespaces import allows
from kubetenancy.cloud.arn import account_of
from kubetenancy.model import CONTROLLER_IDENTITY_KIND, CONTROLLER_IDENTITY_NAME, CloudIdentity, IdentityKey

NOT_PERMITTED = "Namespace is not permitted to use {kind}: {name}"
"""CAPA's own words (`notPermittedError` in session.go)."""


@dataclass(frozen=True)
class Chain:
    start: IdentityKey
    hops: tuple[CloudIdentity, ...]
    """The identities found, the cluster's own first."""
    problem: str = ""
    """Why the chain is broken (a missing identity, a loop, a misnamed controller identity), else ""."""

    @property
    def keys(self) -> tuple[IdentityKey, ...]:
        return tuple(hop.key for hop in self.hops)

    @property
    def landing_account(self) -> str | None:
        """The AWS account the cluster's resources are made in: the account of the last role assumed,
        which is the cluster's own identity's role. None for controller and static credentials, whose
        account kubetenancy cannot know without asking AWS."""
        if self.hops and self.hops[0].role_arn:
            return account_of(self.hops[0].role_arn) or None
        return None

    def describe(self) -> str:
        names = " -> ".join(f"{k.kind.removeprefix('AWSCluster')}/{k.name}" for k in self.keys)
        return f"{names} ({self.problem})" if self.problem else names


def walk(start: IdentityKey, identities: Mapping[IdentityKey, CloudIdentity]) -> Chain:
    hops: list[CloudIdentity] = []
    key: IdentityKey | None = start
    while key is not None:
        if key in (hop.key for hop in hops):
            loop = " -> ".join(str(k) for k in [*(h.key for h in hops), key])
            return Chain(start, tuple(hops), f"sourceIdentityRef loops back: {loop}")
        if key.kind == CONTROLLER_IDENTITY_KIND and key.name != CONTROLLER_IDENTITY_NAME:
            message = f"Expected {CONTROLLER_IDENTITY_KIND} of name {CONTROLLER_IDENTITY_NAME}, got {key.name}"
            return Chain(start, tuple(hops), message)
        identity = identities.get(key)
        if identity is None:
            return Chain(start, tuple(hops), f"{key} not found")
        hops.append(identity)
        key = identity.source
    return Chain(start, tuple(hops))


def first_refusal(chain: Chain, namespace: str, labels: Mapping[str, str] | None) -> CloudIdentity | None:
    """The first identity of the chain that does not allow `namespace`, in CAPA's order; None if all do."""
    return next((hop for hop in chain.hops if not allows(hop.allowance, namespace, labels)), None)


def not_permitted(identity: CloudIdentity) -> str:
    return NOT_PERMITTED.format(kind=identity.key.kind, name=identity.key.name)
