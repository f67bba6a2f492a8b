"""Spaces through the aggregated API: filtered lists and watches, the space limit under parallel creates,
and a watch surviving a restart of the aggregated server. Real users with their own tokens."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from kubetenancy.k8s import Identity, Kube
from kubetenancy.k8s.passthrough import Passthrough
from kubetenancy.localcluster.controlplane import Cluster
from tests.conftest import AggregatedServer
from tests.support.kiosk import SPACES, account_namespace, let_create_spaces, make_account, space
from tests.support.tenants import make_quota, make_tenant
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def as_user(cluster: Cluster) -> AsyncIterator[Callable[[str], Passthrough]]:
    """Raw API access with a test user's own token (what kubectl sends, event by event)."""
    opened: list[Passthrough] = []

    def make(user: str) -> Passthrough:
        """`admin` is the cluster admin (client certificate)."""
        opened.append(Passthrough(cluster.kubeconfig(None if user == "admin" else user)))
        return opened[-1]

    yield make
    for api in opened:
        await api.close()


class Watcher:
    """Collects the events of one watch in the background."""

    def __init__(self, api: Passthrough, params: dict[str, str] | None = None) -> None:
        self.events: list[tuple[str, str]] = []
        self.version = ""
        self.ended = asyncio.Event()
        self._task = asyncio.create_task(self._collect(api, params or {}))

    async def _collect(self, api: Passthrough, params: dict[str, str]) -> None:
        try:
            async for event in api.watch(SPACES, params):
                metadata = event["object"].get("metadata") or {}
                self.events.append((event["type"], metadata.get("name", "")))
                self.version = metadata.get("resourceVersion", self.version)
        except ConnectionError:
            pass
        finally:
            self.ended.set()

    def names(self) -> set[str]:
        return {name for _, name in self.events}

    async def saw(self, kind: str, name: str) -> None:
        async def seen() -> bool:
            return (kind, name) in self.events

        await eventually(seen, within=30)

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def names_listed(api: Passthrough) -> tuple[set[str], str]:
    code, listing = await api.request("GET", SPACES)
    assert code == 200, listing
    return {item["metadata"]["name"] for item in listing["items"]}, listing["metadata"]["resourceVersion"]


async def test_a_users_watch_never_receives_another_accounts_namespace(
    apiserver: AggregatedServer, admin: Kube, as_user: Callable[[str], Passthrough]
) -> None:
    await make_account(admin, "watch-alice", "alice")
    await make_account(admin, "watch-bob", "bob")
    await let_create_spaces(admin, "bob")
    alice = Watcher(as_user("alice"))
    try:
        code, created = await as_user("bob").request("POST", SPACES, body=space("watch-bob-made", "watch-bob"))
        assert code == 201, created
        await account_namespace(admin, "watch-bob-labelled", "watch-bob")
        await account_namespace(admin, "watch-alice-1", "watch-alice")
        await alice.saw("ADDED", "watch-alice-1")

        # Moving a namespace between accounts moves it in and out of the watch.
        await account_namespace(admin, "watch-bob-labelled", "watch-alice")
        await alice.saw("ADDED", "watch-bob-labelled")
        await account_namespace(admin, "watch-bob-labelled", "watch-bob")
        await alice.saw("DELETED", "watch-bob-labelled")
        assert "watch-bob-made" not in alice.names()

        # Joining an account shows its spaces at once, without waiting for their next change.
        await make_account(admin, "watch-bob", "bob", "alice")
        await alice.saw("ADDED", "watch-bob-made")
        await make_account(admin, "watch-bob", "bob")
        await alice.saw("DELETED", "watch-bob-made")
    finally:
        await alice.stop()
    listed, _ = await names_listed(as_user("alice"))
    assert "watch-alice-1" in listed
    assert not {"watch-bob-made", "watch-bob-labelled"} & listed


async def test_a_watch_from_a_recent_list_gets_exactly_what_changed_since(
    apiserver: AggregatedServer, admin: Kube, as_user: Callable[[str], Passthrough]
) -> None:
    await make_account(admin, "since-alice", "alice")
    await make_account(admin, "since-bob", "bob")
    for name in ("since-kept", "since-moved", "since-deleted"):
        await account_namespace(admin, name, "since-alice")

    async def settled() -> bool:
        """The operator has labelled them all (its later writes would be changes after alice's list)."""
        for name in ("since-kept", "since-moved", "since-deleted"):
            namespace = await admin.get("v1", "Namespace", name)
            if "pod-security.kubernetes.io/enforce" not in ((namespace or {}).get("metadata") or {}).get("labels", {}):
                return False
        role = await admin.get("rbac.authorization.k8s.io/v1", "ClusterRole", "kubetenancy-since-alice-members")
        return role is not None and "since-kept" in str(role.get("rules"))

    await eventually(settled)
    alice = as_user("alice")
    listed, version = await names_listed(alice)
    assert {"since-kept", "since-moved", "since-deleted"} <= listed
    everything = Watcher(as_user("admin"))
    try:
        # Changed after alice's list, before her watch opens; once the server has seen them all, her watch
        # starts from its memory of them (the objects as they were at her list's version).
        await account_namespace(admin, "since-added", "since-alice")
        await account_namespace(admin, "since-moved", "since-bob")
        await admin.delete("v1", "Namespace", "since-deleted")
        await everything.saw("DELETED", "since-deleted")
    finally:
        await everything.stop()
    watcher = Watcher(alice, {"resourceVersion": version})
    try:
        await watcher.saw("ADDED", "since-added")
        await watcher.saw("DELETED", "since-moved")
        await watcher.saw("DELETED", "since-deleted")
        assert "since-kept" not in watcher.names()
        assert ("ADDED", "since-moved") not in watcher.events
    finally:
        await watcher.stop()


async def test_a_watch_with_a_label_selector_gets_only_what_it_selects(
    apiserver: AggregatedServer, admin: Kube, as_user: Callable[[str], Passthrough]
) -> None:
    await make_account(admin, "selector-alice", "alice")
    blue = Watcher(as_user("alice"), {"labelSelector": "team=blue"})
    try:
        await account_namespace(admin, "selector-red", "selector-alice", team="red")
        await account_namespace(admin, "selector-blue", "selector-alice", team="blue")
        await blue.saw("ADDED", "selector-blue")
        await account_namespace(admin, "selector-blue", "selector-alice", team="red")
        await blue.saw("DELETED", "selector-blue")  # it left the selection, as the API server reports it
        assert "selector-red" not in blue.names()
    finally:
        await blue.stop()
    code, refused = await as_user("alice").request("GET", SPACES, params={"watch": "true", "labelSelector": "team in"})
    assert code == 400
    assert "unable to parse requirement" in refused["message"]


async def test_a_watch_ends_after_its_timeout_and_refuses_a_made_up_version(
    apiserver: AggregatedServer, as_user: Callable[[str], Passthrough]
) -> None:
    alice = as_user("alice")
    watcher = Watcher(alice, {"timeoutSeconds": "1"})
    await asyncio.wait_for(watcher.ended.wait(), 30)  # ended by the server, as the API server ends it
    code, refused = await alice.request("GET", SPACES, params={"watch": "true", "resourceVersion": "yesterday"})
    assert code == 400
    assert refused["message"] == "invalid resource version 'yesterday': resource versions are whole numbers"


async def test_a_user_in_no_account_lists_no_spaces(apiserver: AggregatedServer, cluster: Cluster) -> None:
    admin = Passthrough(cluster.kubeconfig())
    try:
        code, listing = await admin.request("GET", SPACES, identity=Identity("carol"))  # in no account or tenant
    finally:
        await admin.close()
    assert code == 200, listing
    assert listing["items"] == []


async def test_a_watch_resumes_after_the_aggregated_server_restarts(
    apiserver: AggregatedServer, admin: Kube, as_user: Callable[[str], Passthrough]
) -> None:
    await make_account(admin, "restart-alice", "alice")
    await make_account(admin, "restart-bob", "bob")
    alice = as_user("alice")
    await account_namespace(admin, "restart-alice-1", "restart-alice")
    listed, version = await names_listed(alice)
    assert "restart-alice-1" in listed
    watcher = Watcher(alice, {"resourceVersion": version})
    await account_namespace(admin, "restart-alice-2", "restart-alice")
    await watcher.saw("ADDED", "restart-alice-2")

    apiserver.stop()
    await asyncio.wait_for(watcher.ended.wait(), 30)  # the open watch ends with the server
    # Changes made while it is down are not lost: the resource versions are the API server's own.
    await account_namespace(admin, "restart-alice-3", "restart-alice")
    await account_namespace(admin, "restart-bob-1", "restart-bob")
    apiserver.start()

    resumed = Watcher(alice, {"resourceVersion": watcher.version})
    try:
        await resumed.saw("ADDED", "restart-alice-3")
        await account_namespace(admin, "restart-alice-4", "restart-alice")
        await resumed.saw("ADDED", "restart-alice-4")
        assert "restart-bob-1" not in resumed.names()
        assert "restart-alice-2" not in resumed.names()  # delivered before the restart, not again
    finally:
        await resumed.stop()


async def test_parallel_spaces_stop_at_the_accounts_limit(
    apiserver: AggregatedServer, admin: Kube, as_user: Callable[[str], Passthrough]
) -> None:
    await make_account(admin, "limited", "bob", limit=2)
    await let_create_spaces(admin, "bob")
    bob = as_user("bob")
    answers = await asyncio.gather(
        *(bob.request("POST", SPACES, body=space(f"limited-{i}", "limited")) for i in range(6))
    )
    codes = sorted(code for code, _ in answers)
    assert codes == [201, 201, 403, 403, 403, 403]
    refused = next(answer for code, answer in answers if code == 403)
    assert refused["message"].endswith("space limit of 2 reached for account limited")


async def test_account_users_get_access_before_the_space_is_answered(
    apiserver: AggregatedServer, admin: Kube, as_user: Callable[[str], Passthrough], user_client: Any
) -> None:
    await make_account(admin, "instant", "dba")
    await let_create_spaces(admin, "dba")
    code, created = await as_user("dba").request("POST", SPACES, body=space("instant-space"))  # account filled in
    assert code == 201, created
    assert created["spec"]["account"] == "instant"
    # No waiting: the role binding exists once the Space is answered.
    await user_client("dba").create(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "first", "namespace": "instant-space"}}
    )


async def test_mto_tenant_members_see_their_namespaces_as_spaces(
    apiserver: AggregatedServer, admin: Kube, as_user: Callable[[str], Passthrough]
) -> None:
    await make_quota(admin, "spaces-quota", {"pods": "10"})
    await make_tenant(
        admin,
        "spaces-mto",
        "spaces-quota",
        accessControl={"owners": {"users": ["alice"]}, "viewers": {"users": ["bob"]}},
        namespaces={"withTenantPrefix": ["dev"], "sandboxes": {"enabled": True, "private": True}},
    )
    alice_sees, _ = await names_listed(as_user("alice"))
    bob_sees, _ = await names_listed(as_user("bob"))
    assert {"spaces-mto-dev", "spaces-mto-alice-sandbox"} <= alice_sees
    assert "spaces-mto-bob-sandbox" not in alice_sees
    assert {"spaces-mto-dev", "spaces-mto-bob-sandbox"} <= bob_sees
    assert "spaces-mto-alice-sandbox" not in bob_sees


async def test_deleting_a_space_needs_the_right_to_delete_its_namespace(
    apiserver: AggregatedServer, admin: Kube, as_user: Callable[[str], Passthrough]
) -> None:
    await make_account(admin, "del-admin", "alice")  # the default role, admin, may not delete namespaces
    await make_account(admin, "del-space-admin", "alice", clusterRole="kiosk-space-admin")
    await make_account(admin, "del-other", "bob")
    await let_create_spaces(admin, "alice", "bob")
    alice, bob = as_user("alice"), as_user("bob")
    for name, account in (("del-a", "del-admin"), ("del-b", "del-space-admin")):
        code, created = await alice.request("POST", SPACES, body=space(name, account))
        assert code == 201, created
    assert (await bob.request("POST", SPACES, body=space("del-c", "del-other")))[0] == 201

    code, refused = await alice.request("DELETE", f"{SPACES}/del-a")
    assert code == 403
    assert refused["message"] == (
        'space.tenancy.kiosk.sh "del-a" is forbidden: User "alice" cannot delete resource "spaces" in API group '
        '"tenancy.kiosk.sh" at the cluster scope'
    )
    code, hidden = await alice.request("DELETE", f"{SPACES}/del-c")
    assert (code, hidden["message"]) == (404, 'spaces.tenancy.kiosk.sh "del-c" not found')
    code, deleted = await alice.request("DELETE", f"{SPACES}/del-b")
    assert code == 200, deleted
    assert deleted["metadata"]["deletionTimestamp"]
    namespace = await admin.get("v1", "Namespace", "del-a")
    assert namespace is not None
    assert not namespace["metadata"].get("deletionTimestamp")


async def test_a_space_keeps_its_account_but_takes_new_labels(
    apiserver: AggregatedServer, admin: Kube, as_user: Callable[[str], Passthrough]
) -> None:
    await make_account(admin, "relabel", "alice", clusterRole="kiosk-space-admin")
    await make_account(admin, "relabel-other", "alice")
    await let_create_spaces(admin, "alice")
    alice = as_user("alice")
    assert (await alice.request("POST", SPACES, body=space("relabel-1", "relabel")))[0] == 201
    merge = "application/merge-patch+json"
    relabel = {"metadata": {"labels": {"team": "blue"}}}
    code, _ = await alice.request("PATCH", f"{SPACES}/relabel-1", body=relabel, content_type=merge)
    assert code == 403  # kiosk-space-admin may delete its namespaces, not change them
    code, hidden = await as_user("bob").request("GET", f"{SPACES}/relabel-1")
    assert (code, hidden["message"]) == (404, 'spaces.tenancy.kiosk.sh "relabel-1" not found')
    cluster_admin = as_user("admin")
    move = {"spec": {"account": "relabel-other"}}
    code, moved = await cluster_admin.request("PATCH", f"{SPACES}/relabel-1", body=move, content_type=merge)
    assert code == 422
    assert "a space keeps its account" in moved["message"]
    code, patched = await cluster_admin.request("PATCH", f"{SPACES}/relabel-1", body=relabel, content_type=merge)
    assert code == 200, patched
    assert patched["metadata"]["labels"]["team"] == "blue"
    assert patched["spec"]["account"] == "relabel"
