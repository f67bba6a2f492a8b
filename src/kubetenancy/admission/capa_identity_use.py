"""Rules for CAPA's cluster objects: an identity the namespace may not use, and a cluster name another
namespace already uses in the same AWS account, are refused at apply time instead of failing (silently,
in CAPA's log) or taking over another tenant's VPC at reconcile time.

Applies to every CAPA kind with an `identityRef` and to Cluster API `Cluster`s pointing at one. An update
is judged only when it changes what is judged (the identity, the cluster name), so CAPA and Cluster API
can always update, finalize and delete objects that were admitted.
"""

from __future__ import annotations

from dataclasses import replace

from kubetenancy.admission.decision import Decision, Missing, Request
from kubetenancy.admission.view import TenancyView
from kubetenancy.cloud.allowed_namespaces import describe
from kubetenancy.cloud.identity_chain import first_refusal, not_permitted
from kubetenancy.cloud.identity_index import IdentityIndex
from kubetenancy.frontdoors.capa import CAPI_GROUP, capi_cluster_refs, cluster_from_cr, is_consumer
from kubetenancy.frontdoors.table import CAPA_CLUSTERS, CAPA_IDENTITIES, CAPI_CLUSTER
from kubetenancy.model import CloudCluster, IdentityKey


def _subject(request: Request) -> str:
    return f'{request.kind}.{request.group} "{request.name}" is forbidden'


def _identity_refused(request: Request, cluster: CloudCluster, index: IdentityIndex) -> Decision:
    chain = index.chain(cluster.identity)
    refused = first_refusal(chain, cluster.namespace, index.namespace_labels.get(cluster.namespace))
    where = f'namespace "{cluster.namespace}"' if cluster.namespace else "a cluster-scoped object"
    if refused is not None:
        through = "" if refused.key == cluster.identity else f" (reached through {chain.describe()})"
        denied = Decision.deny(
            f"{_subject(request)}: spec.identityRef: {not_permitted(refused)}{through}: its "
            f"spec.allowedNamespaces lets in {describe(refused.allowance)}, not {where}. Ask a platform admin "
            f"to allow {where} (list it, or select its tenant's label), or use an identity that allows it "
            "(see `kubectl tenancy aws identities`)"
        )
        # The index may lag behind an identity or namespace label changed a moment ago: read them once.
        return replace(denied, missing=(*_identities(chain.keys), *_namespace(cluster.namespace)))
    if chain.problem.startswith(("sourceIdentityRef loops", "Expected")):
        return Decision.deny(f"{_subject(request)}: spec.identityRef: {chain.problem}: CAPA cannot use {chain.start}")
    if chain.problem:
        return Decision.warn([f"spec.identityRef: {chain.problem} (yet): CAPA will not reconcile it until it exists"])
    return Decision.allow()


def _shares_resources(request: Request, cluster: CloudCluster, index: IdentityIndex) -> Decision:
    other = index.sharing_resources_with(cluster)
    if other is None:
        return Decision.allow()
    account = index.chain(other.identity).landing_account or "the controller's own"
    return Decision.deny(
        f'{_subject(request)}: Cluster API cluster name "{index.cluster_name(cluster)}" is already used by '
        f"{other}, which may reach the same AWS account ({account}) and region: CAPA finds VPCs, subnets and "
        "load balancers by a tag with the cluster name but not its namespace, so this cluster would take over "
        "its resources. Choose another cluster name"
    )


def _judge(request: Request, cluster: CloudCluster, old: CloudCluster | None, index: IdentityIndex) -> Decision:
    if old is None or old.identity != cluster.identity:
        decision = _identity_refused(request, cluster, index)
        if not decision.allowed:
            return decision
    else:
        decision = Decision.allow()
    if old is None or index.cluster_name(old) != index.cluster_name(cluster) or old.identity != cluster.identity:
        shared = _shares_resources(request, cluster, index)
        if not shared.allowed:
            return shared
    return decision


def identity_may_be_used(request: Request, view: TenancyView) -> Decision:
    if request.operation not in ("CREATE", "UPDATE") or request.obj.get("metadata", {}).get("deletionTimestamp"):
        return Decision.allow()
    index = view.aws
    if request.group == CAPI_GROUP and request.kind == "Cluster":
        return _cluster_points_at(request, index)
    if not is_consumer(request.group, request.kind):
        return Decision.allow()
    cluster = cluster_from_cr({**request.obj, "kind": request.kind})
    old = cluster_from_cr({**request.old, "kind": request.kind}) if request.old else None
    decision = _judge(request, cluster, old, index)
    key = (request.kind, request.namespace or "", request.name)
    if request.namespace and key not in index.capi_names and key not in index.clusters:
        # Its Cluster API cluster (whose name it takes) may have been applied a moment ago.
        served = CAPI_CLUSTER.served
        capi = Missing(served.api_version, served.kind, None, request.namespace)
        return replace(decision, missing=(*decision.missing, capi))
    return decision


def claim_cluster_name(request: Request, view: TenancyView) -> None:
    """After a CAPA object's create was admitted: its cluster name is taken at once (`IdentityIndex.claims`),
    so a create of the same name in another namespace a moment later is refused although neither object has
    been seen yet. The one write an admission decision makes, to the CAPA index only."""
    if request.operation == "CREATE" and is_consumer(request.group, request.kind):
        index = view.aws
        cluster = cluster_from_cr({**request.obj, "kind": request.kind})
        index.claim(replace(cluster, cluster_name=index.cluster_name(cluster)))


def _cluster_points_at(request: Request, index: IdentityIndex) -> Decision:
    """A Cluster API Cluster names the CAPA objects whose cluster name it is: judge them under that name."""
    old_refs = set(capi_cluster_refs(request.old)) if request.old else set()
    namespace = request.namespace or ""
    unseen: list[Missing] = []
    for kind, name in capi_cluster_refs(request.obj):
        known = index.clusters.get((kind, namespace, name))
        if known is None:
            unseen += _missing(kind, name, namespace)  # perhaps applied a moment ago
            continue
        if (kind, name) in old_refs or known.cluster_name == request.name:
            continue
        decision = _shares_resources(request, replace(known, cluster_name=request.name), index)
        if not decision.allowed:
            return decision
    return Decision(True, missing=tuple(unseen))


def _identities(keys: tuple[IdentityKey, ...]) -> list[Missing]:
    doors = {door.served.kind: door.served for door in CAPA_IDENTITIES}
    return [Missing(doors[key.kind].api_version, key.kind, key.name) for key in keys if key.kind in doors]


def _namespace(name: str | None) -> list[Missing]:
    return [Missing("v1", "Namespace", name)] if name else []


def _missing(kind: str, name: str, namespace: str) -> list[Missing]:
    """The CAPA object a Cluster points at, by its door's coordinates."""
    door = next((d for d in CAPA_CLUSTERS if d.served.kind == kind), None)
    return [Missing(door.served.api_version, kind, name, namespace)] if door is not None else []
