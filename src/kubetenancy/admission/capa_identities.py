"""Rules for CAPA's identities: warn where `allowedNamespaces` does not do what it looks like, refuse a
`sourceIdentityRef` loop (CAPA would recurse until it fails), warn which clusters a change takes the
identity away from, and refuse deleting an identity clusters still use (CAPA could then neither
reconcile nor delete them: kubernetes-sigs/cluster-api-provider-aws#2371).
"""

from __future__ import annotations

from dataclasses import replace

from kubetenancy.admission.decision import Decision, Request
from kubetenancy.admission.view import TenancyView
from kubetenancy.cloud.allowed_namespaces import warnings
from kubetenancy.cloud.identity_index import IdentityIndex
from kubetenancy.frontdoors.capa import IDENTITIES, identity_from_cr
from kubetenancy.model import IdentityKey


def _subject(request: Request) -> str:
    return f'{request.kind}.{request.group} "{request.name}"'


def _in_use(request: Request, index: IdentityIndex) -> Decision:
    key = IdentityKey(request.kind, request.name)
    users = index.clusters_using(key)
    dependents = sorted(str(i.key) for i in index.identities.values() if i.source == key)
    if not users:
        return Decision.allow()
    also = f" (and is the source of {', '.join(dependents)})" if dependents else ""
    return Decision.deny(
        f"{_subject(request)} is forbidden: it is used by {', '.join(str(c) for c in users)}{also}: CAPA could "
        "neither reconcile nor delete them without it. Point their spec.identityRef at another identity, or "
        "delete them, before deleting it"
    )


def identity_is_sound(request: Request, view: TenancyView) -> Decision:
    if request.kind not in IDENTITIES:
        return Decision.allow()
    if request.operation == "DELETE":
        return _in_use(request, view.aws)
    identity = identity_from_cr({**request.obj, "kind": request.kind})
    after = replace(view.aws, identities={**view.aws.identities, identity.key: identity})
    problem = after.chain(identity.key).problem
    if problem.startswith("sourceIdentityRef loops"):
        return Decision.invalid(f"{_subject(request)} is invalid: spec.sourceIdentityRef: {problem}")
    found = warnings(identity.allowance, str(identity.key))
    before = view.aws.refusals()
    losing = [
        str(cluster)
        for key, cluster in view.aws.clusters.items()
        if before.get(key) is None and after.refusal(cluster) is not None
    ]
    if losing:
        them = "it" if len(losing) == 1 else "them"
        found.append(f"{', '.join(losing)} may no longer use {identity.key}: CAPA stops reconciling {them}")
    return Decision.warn(found)
