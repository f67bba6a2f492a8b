"""Showback's arithmetic: prices from the IntegrationConfig, resource-hours priced, rolled up per tenant with
unattributed and idle apart so the parts add up to the total; and the queries' windows."""

from __future__ import annotations

import math

import pytest

from kubetenancy.component_model import PriceList
from kubetenancy.frontdoors.components import price_list
from kubetenancy.showback.allocation import ResourceHours, narrowed, showback
from kubetenancy.showback.queries import Queries, seconds
from kubetenancy.showback.source import allocated, owners_of

PRICES = PriceList(cpu=0.04, ram=0.005, gpu=1.0, storage=0.0001)


def test_prices_come_from_mto_fields_with_opencost_defaults_for_the_rest() -> None:
    spec = {"components": {"showback": True, "showbackOpts": {"custom": {"CPU": "0.05", "storage": "0.0002"}}}}
    prices = price_list(spec)
    assert (prices.cpu, prices.storage) == (0.05, 0.0002)
    assert (prices.ram, prices.gpu, prices.spot_cpu) == (PriceList().ram, PriceList().gpu, PriceList().spot_cpu)
    assert price_list({}) == price_list(None) == PriceList()
    assert PriceList().cpu == 0.031611  # OpenCost's configs/default.json
    with pytest.raises(ValueError, match="CPU"):
        price_list({"components": {"showbackOpts": {"custom": {"CPU": "ten"}}}})


def test_resource_hours_times_prices() -> None:
    cost = ResourceHours(cpu_core_hours=10, ram_gib_hours=100, gpu_hours=2, storage_gib_hours=1000).priced(PRICES)
    assert (cost.cpu, cost.ram, cost.gpu, cost.storage) == pytest.approx((0.4, 0.5, 2.0, 0.1))
    assert cost.total == pytest.approx(3.0)


def test_tenants_unattributed_and_idle_add_up_to_the_total() -> None:
    report = showback(
        {
            "ship-a": ResourceHours(cpu_core_hours=2, ram_gib_hours=4),
            "ship-b": ResourceHours(cpu_core_hours=1, ram_gib_hours=1, storage_gib_hours=10),
            "shop": ResourceHours(cpu_core_hours=3),
            "kube-system": ResourceHours(cpu_core_hours=0.5, ram_gib_hours=1),
        },
        capacity=ResourceHours(cpu_core_hours=8, ram_gib_hours=16),
        owners={"ship-a": "logistics", "ship-b": "logistics", "shop": "retail"},
        prices=PRICES,
    )
    by_tenant = {line.name: line for line in report.tenants}
    assert by_tenant["logistics"].hours == ResourceHours(cpu_core_hours=3, ram_gib_hours=5, storage_gib_hours=10)
    assert by_tenant["retail"].cost.total == pytest.approx(3 * PRICES.cpu)
    assert report.unattributed.hours == ResourceHours(cpu_core_hours=0.5, ram_gib_hours=1)
    assert report.idle.hours == ResourceHours(cpu_core_hours=8 - 6.5, ram_gib_hours=16 - 6)
    parts = [line.cost.total for line in report.tenants] + [report.unattributed.cost.total, report.idle.cost.total]
    assert math.fsum(parts) == pytest.approx(report.total.total)
    # The whole is what the nodes cost (CPU and memory) plus the storage that was requested.
    assert report.total.total == pytest.approx(8 * PRICES.cpu + 16 * PRICES.ram + 10 * PRICES.storage)
    assert [(line.name, line.tenant) for line in report.namespaces] == [
        ("kube-system", ""), ("ship-a", "logistics"), ("ship-b", "logistics"), ("shop", "retail"),
    ]  # fmt: skip


def test_idle_is_never_negative() -> None:
    report = showback({"a": ResourceHours(cpu_core_hours=2.1)}, ResourceHours(cpu_core_hours=2), {"a": "t"}, PRICES)
    assert report.idle.hours.cpu_core_hours == 0
    assert report.total.total == pytest.approx(2.1 * PRICES.cpu)


def test_a_member_sees_only_their_tenants() -> None:
    owners = {"ship": "logistics", "shop": "retail"}
    hours = {"ship": ResourceHours(cpu_core_hours=1), "shop": ResourceHours(cpu_core_hours=2)}
    mine = narrowed(showback(hours, ResourceHours(cpu_core_hours=4), owners, PRICES), ["logistics"])
    assert [line.name for line in mine.tenants] == ["logistics"]
    assert [line.name for line in mine.namespaces] == ["ship"]
    assert mine.total.total == pytest.approx(PRICES.cpu)


def test_prometheus_answers_become_hours_per_namespace_and_owners() -> None:
    def vector(*samples: tuple[dict[str, str], float]) -> list[dict[str, object]]:
        return [{"metric": labels, "value": [0, str(value)]} for labels, value in samples]

    answers = {
        "cpu": vector(({"namespace": "a"}, 1.5), ({"namespace": "b"}, 0.25)),
        "ram": vector(({"namespace": "a"}, 3.0)),
        "gpu": [],
        "storage": vector(({"namespace": "b"}, 7.0)),
    }
    assert allocated(answers) == {
        "a": ResourceHours(cpu_core_hours=1.5, ram_gib_hours=3.0),
        "b": ResourceHours(cpu_core_hours=0.25, storage_gib_hours=7.0),
    }
    moved = vector(({"namespace": "a", "tenant": "old"}, 100), ({"namespace": "a", "tenant": "new"}, 200))
    assert owners_of(moved) == {"a": "new"}


def test_queries_integrate_over_the_window_at_the_resolution() -> None:
    queries = Queries(window="2h", resolution="30s")
    assert seconds("1h30m") == 5400
    assert seconds("7d") == 7 * 86400
    with pytest.raises(ValueError, match="not a duration"):
        seconds("7 days")
    for name, promql in queries.all().items():
        if name != "owners":
            assert promql.startswith("sum_over_time(("), name
            assert "[2h:30s]) * 30 / " in promql, name
    assert 'job="kubelet"' in queries.cpu
    assert 'resource="cpu"' in queries.cpu
    assert 'job="cadvisor"' in queries.capacity_ram
