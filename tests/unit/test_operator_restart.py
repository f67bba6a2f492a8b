"""How long a failed operator core waits before its restart."""

from __future__ import annotations

from kubetenancy.operator.run import MAX_RESTART_DELAY, restart_delay


def test_the_delay_doubles_while_the_core_keeps_failing_up_to_a_ceiling() -> None:
    assert [restart_delay(n) for n in range(1, 8)] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert restart_delay(100) == MAX_RESTART_DELAY
