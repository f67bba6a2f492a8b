"""CAPA identity admission on the real API server with CAPA's own CRDs (v2.13.0), installed after the
operator started: the webhooks appear with the CRDs (and go with them), kubectl shows the warnings, and
objects that lose or regain their identity get Events."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml

from kubetenancy.k8s import ApiError, Kube
from kubetenancy.k8s.crds import CRD_API
from kubetenancy.localcluster.controlplane import Cluster
from kubetenancy.localcluster.gobuild import CAPA
from tests.support.capa import CONSUMER_CRDS, IDENTITY_CRDS, crds, install
from tests.support.kubectl import Kubectl
from tests.support.tenants import make_quota, make_tenant
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

INFRA = "infrastructure.cluster.x-k8s.io/v1beta2"
CONTROL_PLANE = "controlplane.cluster.x-k8s.io/v1beta2"
WEBHOOKS = ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "kubetenancy")
ROLE = "arn:aws:iam::111111111111:role/controllers.cluster-api-provider-aws.sigs.k8s.io"
CONTROLLER = {
    "apiVersion": INFRA,
    "kind": "AWSClusterControllerIdentity",
    "metadata": {"name": "default"},
    "spec": {"allowedNamespaces": {}},
}


async def _capa_webhooks(kube: Kube) -> set[str]:
    configuration = await kube.get(*WEBHOOKS) or {}
    return {w["name"] for w in configuration.get("webhooks", []) if w["name"].startswith("capa-")}


async def _set_up(cluster: Cluster, manifests: list[dict[str, Any]]) -> None:
    async with Kube(cluster.kubeconfig()) as kube:
        await install(kube, manifests)
        await kube.learn_kinds([role_identity("x", {}), control_plane("x", "x", "x")])  # for this process' clients
        await kube.apply(CONTROLLER)  # the source of every role identity here
        await eventually(lambda: _has_webhooks(kube, True))


async def _tear_down(cluster: Cluster, manifests: list[dict[str, Any]]) -> None:
    async with Kube(cluster.kubeconfig()) as kube:
        for crd in manifests:
            await kube.delete(CRD_API, "CustomResourceDefinition", crd["metadata"]["name"])
        await eventually(lambda: _has_webhooks(kube, False))


async def _has_webhooks(kube: Kube, wanted: bool) -> bool:
    return (await _capa_webhooks(kube) == {"capa-clusters.kubetenancy.dev", "capa-identities.kubetenancy.dev"}) is (
        wanted
    )


@pytest.fixture(scope="module")
def capa(operator: str, cluster: Cluster) -> Iterator[None]:
    """CAPA's identity and cluster CRDs, installed while the operator runs; removed afterwards (the CAPA
    webhooks must then go too)."""
    manifests = crds_of_capa()
    asyncio.run(_set_up(cluster, manifests))
    yield
    asyncio.run(_tear_down(cluster, manifests))


def crds_of_capa() -> list[dict[str, Any]]:
    return crds(CAPA, [*IDENTITY_CRDS, *CONSUMER_CRDS])


def role_identity(name: str, allowed: Any) -> dict[str, Any]:
    return {
        "apiVersion": INFRA,
        "kind": "AWSClusterRoleIdentity",
        "metadata": {"name": name},
        "spec": {
            "allowedNamespaces": allowed,
            "roleARN": ROLE,
            "sourceIdentityRef": {"kind": "AWSClusterControllerIdentity", "name": "default"},
        },
    }


def control_plane(namespace: str, name: str, identity: str) -> dict[str, Any]:
    return {
        "apiVersion": CONTROL_PLANE,
        "kind": "AWSManagedControlPlane",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"region": "us-east-1", "identityRef": {"kind": "AWSClusterRoleIdentity", "name": identity}},
    }


async def tenant_namespace(admin: Kube, name: str, tenant: str) -> str:
    labels = {"stakater.com/tenant": tenant}
    await admin.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
    return name


async def refused(call: Any) -> str:
    with pytest.raises(ApiError) as raised:
        await call
    return str(raised.value.status.message)


async def test_identities_warn_in_kubectl_and_refuse_namespaces_they_do_not_allow(
    capa: None, admin: Kube, kubectl: Kubectl
) -> None:
    code, output = kubectl("apply", "-f", "-", stdin=_yaml(role_identity("capa-it-open", {})))
    assert code == 0, output
    assert (
        "Warning: spec.allowedNamespaces: {} (or selector: {}, which CAPA's book says matches none) "
        "lets every namespace use AWSClusterRoleIdentity capa-it-open" in output
    )
    code, output = kubectl(
        "apply", "-f", "-", stdin=_yaml(role_identity("capa-it-none", {"selector": {"matchLabels": {}}}))
    )
    assert "Warning: spec.allowedNamespaces.selector.matchLabels: {} matches no namespace" in output
    await admin.apply(
        role_identity("capa-it-logistics", {"selector": {"matchLabels": {"stakater.com/tenant": "it-lg"}}})
    )
    mine = await tenant_namespace(admin, "capa-it-logistics", "it-lg")
    other = await tenant_namespace(admin, "capa-it-retail", "it-rt")
    await admin.apply(control_plane(mine, "c1", "capa-it-logistics"))
    foreign = control_plane(other, "c9", "capa-it-logistics")

    async def view_is_current() -> bool:
        # The webhook judges identities and namespace labels from the operator's watched view, so objects
        # made a moment ago may not be judged yet (README, Limits); a server-side dry run waits for it.
        code, _ = kubectl("apply", "--dry-run=server", "-f", "-", stdin=_yaml(foreign))
        return code != 0

    await eventually(view_is_current)
    message = await refused(admin.apply(foreign))
    assert message.startswith(
        'admission webhook "capa-clusters.kubetenancy.dev" denied the request: AWSManagedControlPlane.'
        'controlplane.cluster.x-k8s.io "c9" is forbidden: spec.identityRef: Namespace is not permitted to use '
        "AWSClusterRoleIdentity: capa-it-logistics: its spec.allowedNamespaces lets in namespaces labelled "
        'stakater.com/tenant=it-lg, not namespace "capa-it-retail"'
    )
    message = await refused(admin.apply(control_plane(other, "c1", "capa-it-open")))
    assert (
        'Cluster API cluster name "c1" is already used by AWSManagedControlPlane capa-it-logistics/c1, which may '
        "reach the same AWS account (111111111111)" in message
    )
    message = await refused(admin.delete(INFRA, "AWSClusterRoleIdentity", "capa-it-logistics"))
    assert "it is used by AWSManagedControlPlane capa-it-logistics/c1" in message
    await admin.delete(CONTROL_PLANE, "AWSManagedControlPlane", "c1", mine)
    await eventually(lambda: _deletable(admin, "capa-it-logistics"))
    for name in ("capa-it-open", "capa-it-none"):
        await admin.delete(INFRA, "AWSClusterRoleIdentity", name)


async def test_two_creates_of_one_cluster_name_at_once_admit_exactly_one(capa: None, admin: Kube) -> None:
    await admin.apply(role_identity("capa-it-shared", {}))
    namespaces = [await tenant_namespace(admin, f"capa-it-race-{i}", f"it-race-{i}") for i in range(4)]

    async def create(namespace: str) -> str:
        try:
            await admin.create(control_plane(namespace, "race", "capa-it-shared"))
        except ApiError as error:
            return str(error.status.message)
        return "created"

    # Whether or not the view has seen the identity yet, clusters of one name may land in one account.
    outcomes = await asyncio.gather(*(create(ns) for ns in namespaces))
    assert outcomes.count("created") == 1, outcomes
    assert all('Cluster API cluster name "race" is already used by' in o for o in outcomes if o != "created")
    for namespace, outcome in zip(namespaces, outcomes, strict=True):
        if outcome == "created":
            await admin.delete(CONTROL_PLANE, "AWSManagedControlPlane", "race", namespace)
    await eventually(lambda: _deletable(admin, "capa-it-shared"))


async def _deletable(admin: Kube, name: str) -> bool:
    try:
        await admin.delete(INFRA, "AWSClusterRoleIdentity", name)
    except ApiError:
        return False
    return True


async def _events(admin: Kube, namespace: str, name: str) -> list[tuple[str, str, str]]:
    found = await admin.list("v1", "Event", namespace=namespace)
    return [
        (e["type"], e["reason"], e["message"])
        for e in found
        if e["involvedObject"]["name"] == name and e.get("reportingComponent") == "kubetenancy"
    ]


async def test_objects_that_lose_or_regain_their_identity_get_events(capa: None, admin: Kube) -> None:
    mine = await tenant_namespace(admin, "capa-it-events", "it-ev")
    await admin.apply(role_identity("capa-it-events", {"list": [mine]}))
    await admin.apply(control_plane(mine, "ev1", "capa-it-events"))
    await admin.apply(role_identity("capa-it-events", {"list": []}))
    lost = (
        "Warning",
        "PrincipalUsageUnauthorized",
        "Namespace is not permitted to use AWSClusterRoleIdentity: capa-it-events: CAPA does not reconcile it "
        "(kubectl tenancy aws identities)",
    )

    async def has(event: tuple[str, str, str]) -> bool:
        return event in await _events(admin, mine, "ev1")

    await eventually(lambda: has(lost))
    await admin.apply(role_identity("capa-it-events", {"list": [mine]}))
    regained = (
        "Normal",
        "PrincipalUsageAllowed",
        "may now use AWSClusterRoleIdentity capa-it-events: CAPA reconciles it with that identity at its next pass",
    )
    await eventually(lambda: has(regained))
    await admin.delete(CONTROL_PLANE, "AWSManagedControlPlane", "ev1", mine)
    await eventually(lambda: _deletable(admin, "capa-it-events"))


async def test_tenants_may_not_set_the_labels_identities_select_on(
    capa: None, admin: Kube, user_client: Callable[[str], Kube]
) -> None:
    await make_quota(admin, "capa-it-q", {"pods": "10"})
    await make_tenant(admin, "capa-it-bobs", "capa-it-q", accessControl={"owners": {"users": ["bob"]}})
    await admin.apply(role_identity("capa-it-teams", {"selector": {"matchLabels": {"team": "payments"}}}))
    bob = user_client("bob")

    def namespace(name: str, **labels: str) -> dict[str, Any]:
        labels = {"kubetenancy.dev/tenant": "capa-it-bobs", **labels}
        return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}

    async def refused_for_bob() -> str | None:
        try:
            await bob.create(namespace("capa-it-bobs-pay", team="payments"))
        except ApiError as error:
            return str(error.status.message)
        return None

    async def label_is_protected() -> bool:
        return await refused_for_bob() is not None

    await eventually(label_is_protected)
    assert await refused_for_bob() == (
        'admission webhook "namespaces.kubetenancy.dev" denied the request: namespaces "capa-it-bobs-pay" is '
        'forbidden: User "bob" may not set or change the label(s) team: AWSClusterRoleIdentity capa-it-teams '
        "select namespaces by them, so they decide which namespaces may use an AWS account; only cluster "
        "administrators may change them"
    )
    created = await bob.create(namespace("capa-it-bobs-web"))
    assert created["metadata"]["name"] == "capa-it-bobs-web"
    await admin.delete(INFRA, "AWSClusterRoleIdentity", "capa-it-teams")


def _yaml(obj: dict[str, Any]) -> str:
    return str(yaml.safe_dump(obj))
