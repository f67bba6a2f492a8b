"""`make bench`: run the benchmarks, save bench/results/<date>.json and a markdown summary.

Each benchmark repeats its workload and reports the median and the spread (min..max); targets come from
the issues and are compared here, never asserted in tests.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
from pathlib import Path

from bench import controlplane

RESULTS = Path(__file__).parent / "results"
TARGETS = {"warm_start_1_cluster_s": 15.0}


def summarize(results: dict[str, list[float]]) -> str:
    lines = ["| benchmark | runs | median | min | max | target |", "|---|---|---|---|---|---|"]
    for name, values in results.items():
        target = TARGETS.get(name)
        verdict = (
            "" if target is None else f"≤ {target:g} ({'met' if statistics.median(values) <= target else 'MISSED'})"
        )
        lines.append(
            f"| {name} | {len(values)} | {statistics.median(values):.2f} | {min(values):.2f} | "
            f"{max(values):.2f} | {verdict} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="fewer repeats and no cold build (~1 minute)")
    args = parser.parse_args()
    results = controlplane.run(quick=args.quick, cold=not args.quick)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    RESULTS.mkdir(exist_ok=True)
    machine = {"cpus": os.cpu_count(), "platform": platform.platform()}
    suffix = "-quick" if args.quick else ""
    (RESULTS / f"{stamp}{suffix}.json").write_text(json.dumps({"machine": machine, "results": results}, indent=2))
    summary = f"# Benchmarks {stamp}{suffix}\n\nMachine: {machine}\n\nSeconds:\n\n{summarize(results)}"
    (RESULTS / f"{stamp}{suffix}.md").write_text(summary)
    (RESULTS / "latest.md").write_text(summary)
    print(summary)


if __name__ == "__main__":
    main()
