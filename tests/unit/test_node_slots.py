"""The machine-wide table of node networks decides, under its lock, which node is the machine's first and
which its last (so the host is recorded and put back exactly once). The table, its lock and the hooks are
real; only the `ip` calls that make and remove a namespace are replaced by a file in a temporary
/run/netns, since a unit test may not change the machine's network."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubetenancy.localcluster import netns


@pytest.fixture
def table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    namespaces = tmp_path / "netns"
    namespaces.mkdir()
    monkeypatch.setattr(netns, "RUN_DIR", tmp_path / "run")
    monkeypatch.setattr(netns, "LOCK", tmp_path / "lock" / "nodes.lock")
    monkeypatch.setattr(netns, "NETNS_DIR", namespaces)
    monkeypatch.setattr(netns, "_host_networks", list)
    monkeypatch.setattr(netns, "_set_up", lambda network: (namespaces / network.netns).touch())
    monkeypatch.setattr(netns, "_tear_down", lambda network: (namespaces / network.netns).unlink(missing_ok=True))
    return []


def test_only_the_first_node_records_and_only_the_last_puts_back(table: list[str]) -> None:
    def first() -> None:
        table.append("recorded")

    def last() -> None:
        table.append("put back")

    a = netns.create("plane-a", before_first=first)
    b = netns.create("plane-b", before_first=first)
    assert (a.slot, b.slot) == (1, 2)
    assert table == ["recorded"]
    assert netns.create("plane-a", before_first=first) == a, "an existing network is the same network"
    netns.delete(a, after_last=last)
    assert table == ["recorded"], "plane-b still runs a node"
    netns.delete(b, after_last=last)
    assert table == ["recorded", "put back"]
    assert netns.create("plane-c", preferred=2, before_first=first).slot == 2
    assert table == ["recorded", "put back", "recorded"]
