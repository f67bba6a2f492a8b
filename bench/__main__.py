"""`make bench`: run every benchmark on its own local control plane; save bench/results/<date>.json, a
markdown summary and PNG plots. `--quick` is a short smoke run with smaller sizes.

Each workload is repeated (or, for latencies, made of many requests) and reported as median and spread;
targets come from the issues and are compared here, never asserted in tests.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
from pathlib import Path
from typing import Any

from bench import controlplane, plots, spaces, tenancy

RESULTS = Path(__file__).parent / "results"


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def summarize(results: dict[str, Any]) -> str:
    lines = [
        "## Local control plane (seconds)",
        "",
        "| workload | runs | median | min | max | target |",
        "|---|---|---|---|---|---|",
    ]
    for name, values in results["controlplane"].items():
        limit = {"warm_start_1_cluster_s": 15, "warm_start_1_cluster_with_node_s": 10}.get(name)
        target = f" ≤ {limit} (" + _verdict(statistics.median(values) <= limit) + ")" if limit else ""
        lines.append(
            f"| {name} | {len(values)} | {statistics.median(values):.2f} | {min(values):.2f} | {max(values):.2f} |{target} |"
        )
    lines += [
        "",
        "## Tenant convergence",
        "",
        "| tenants | operator s | baseline s | ratio | API requests / tenant |",
        "|---|---|---|---|---|",
    ]
    for n, row in results["convergence"].items():
        lines.append(
            f"| {n} | {row['operator_s']:.2f} | {row['baseline_s']:.2f} | {row['ratio']:.2f} | {row['api_requests_per_tenant']:.1f} |"
        )
    lines += ["", "Target: ratio ≤ 1.3 at 1000 tenants, requests per tenant flat as N grows.", ""]
    lines += [
        "## Admission (ms)",
        "",
        "| request @ clients | tenant p50 | tenant p99 | no-op floor p50 | floor p99 | plain p50 | plain p99 | p99 overhead ours | p99 overhead floor | ours / floor | errors |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    server_side = results["admission"].pop("server_side_mean_ms")
    for key, row in results["admission"].items():
        t, f, p = row["tenant_ms"], row["floor_ms"], row["plain_ms"]
        ratio = (
            row["p99_overhead_ms"] / row["floor_p99_overhead_ms"] if row["floor_p99_overhead_ms"] > 0 else float("nan")
        )
        lines.append(
            f"| {key} | {t['median']:.1f} | {t['p99']:.1f} | {f['median']:.1f} | {f['p99']:.1f} | {p['median']:.1f} | {p['p99']:.1f} | {row['p99_overhead_ms']:.1f} | {row['floor_p99_overhead_ms']:.1f} | {ratio:.2f} | {row['errors']} |"
        )
    lines += [
        "",
        "The floor is a webhook answering `allowed` at once with our registration (rules, selectors, timeout, TLS): "
        "its overhead is what any webhook costs here. Target: our p99 overhead at 50 clients ≤ 1.25 times the floor's, zero errors.",
        "",
    ]
    lines += [
        "Time the operator itself spends per review (mean, from its histogram): "
        + ", ".join(f"{k} {v:.2f} ms" for k, v in server_side.items()),
        "",
    ]
    c = results["contention"]
    lines += [
        "## Quota under contention",
        "",
        f"{c['creates']} parallel pod creates, room for {c['room']}: **{c['admitted']} admitted** "
        f"({_verdict(c['admitted'] == c['room'])}; must be exactly {c['room']}); latency median "
        f"{c['latency_ms']['median']:.0f} ms, p99 {c['latency_ms']['p99']:.0f} ms.",
        "",
    ]
    s = results["steady"]
    lines += [
        f"## Steady state and restart ({s['tenants']} tenants)",
        "",
        f"- API writes per minute while nothing changes: {s['idle_writes_per_minute']:.1f} (target 0: {_verdict(s['idle_writes_per_minute'] == 0)})",
        f"- operator RSS: {s['operator_rss_mb']:.0f} MB (target ≤ 250: {_verdict(s['operator_rss_mb'] <= 250)})",
        f"- restart until every tenant re-checked: {s['restart_recheck_s']:.1f} s with {s['restart_writes']:.0f} writes "
        f"(target ≤ 15 s and 0 writes: {_verdict(s['restart_recheck_s'] <= 15 and s['restart_writes'] == 0)})",
        "",
    ]
    lines += _spaces(results["spaces"])
    return "\n".join(lines)


def _spaces(sp: dict[str, Any]) -> list[str]:
    lines = [
        f"## Spaces through the aggregated API ({sp['accounts']} accounts, {sp['namespaces']} namespaces)",
        "",
        "| request | p50 ms | p99 ms |",
        "|---|---|---|",
    ]
    for name, row in sp["list"].items():
        lines.append(f"| {name.removesuffix('_ms').replace('_', ' ')} | {row['median']:.1f} | {row['p99']:.1f} |")
    w = sp["watch"]
    lines += [
        "",
        f"Watch fan-out: {w['watchers']} users watching; a new space reaches its user's watch in "
        f"{w['delivery_ms']['median']:.0f} ms (p50), {w['delivery_ms']['p99']:.0f} ms (p99); events that reached "
        f"other users' watches: {w['events_to_other_users']} (must be 0: {_verdict(w['events_to_other_users'] == 0)}). "
        f"Aggregated server RSS: {sp['apiserver_rss_mb']:.0f} MB. (Issue 5 states no targets.)",
        "",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="small sizes, no cold build (a few minutes)")
    args = parser.parse_args()
    quick = args.quick
    results = {
        "controlplane": controlplane.run(quick=quick, cold=not quick),
        "convergence": tenancy.convergence([10, 50] if quick else [10, 100, 1000]),
        "admission": tenancy.admission(30 if quick else 200),
        "contention": tenancy.contention(),
        "steady": tenancy.steady(20 if quick else 1000, 10 if quick else 60),
        "spaces": spaces.run(quick=quick),
    }
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d") + ("-quick" if quick else "")
    RESULTS.mkdir(exist_ok=True)
    machine = {"cpus": os.cpu_count(), "platform": platform.platform()}
    (RESULTS / f"{stamp}.json").write_text(json.dumps({"machine": machine, "results": results}, indent=2))
    plots.write(results, RESULTS, stamp)
    summary = f"# Benchmarks {stamp}\n\nMachine: {machine}. Plots: `{stamp}-*.png`.\n\n{summarize(results)}"
    (RESULTS / f"{stamp}.md").write_text(summary)
    (RESULTS / "latest.md").write_text(summary)
    print(summary)


if __name__ == "__main__":
    main()
