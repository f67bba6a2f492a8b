"""PNG plots of the benchmark results (matplotlib, no display)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def write(results: dict[str, Any], directory: Path, stamp: str) -> None:
    sizes = [int(n) for n in results["convergence"]]
    figure, axis = plt.subplots(figsize=(6, 4))
    axis.plot(sizes, [r["operator_s"] for r in results["convergence"].values()], marker="o", label="operator")
    axis.plot(sizes, [r["baseline_s"] for r in results["convergence"].values()], marker="o", label="baseline script")
    axis.set(xlabel="tenants applied at once", ylabel="seconds until all Ready", title="Tenant convergence")
    axis.set_xscale("log")
    axis.legend()
    figure.tight_layout()
    figure.savefig(directory / f"{stamp}-convergence.png", dpi=100)
    plt.close(figure)

    keys = [k for k in results["admission"] if "@" in k]
    figure, axis = plt.subplots(figsize=(7, 4))
    positions = range(len(keys))
    for offset, column, label in (
        (-0.27, "tenant_ms", "tenant (our webhooks)"),
        (0.0, "floor_ms", "no-op webhook (floor)"),
        (0.27, "plain_ms", "plain namespace"),
    ):
        axis.bar(
            [p + offset for p in positions], [results["admission"][k][column]["p99"] for k in keys], 0.27, label=label
        )
    axis.set_xticks(list(positions), keys, rotation=30, ha="right")
    axis.set(ylabel="p99 latency (ms)", title="Admission latency")
    axis.legend()
    figure.tight_layout()
    figure.savefig(directory / f"{stamp}-admission.png", dpi=100)
    plt.close(figure)
