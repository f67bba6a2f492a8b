"""The console: dashboard page loads in a real browser with 100 tenants, the console's memory, and
Keycloak's start time (issue 15 asks for these figures; it states no targets).

1. Keycloak: seconds from spawn until `/health/ready`, for a new site (blank database copied, realm
   imported), `runs` times; the first also serves the workloads below.
2. N Tenants (two namespaces each, a Quota); tenant 0 is owned by falcon@nordmart.com. Headless Chromium
   logs in through Keycloak's form as the admin (`mto`, sees all N) and as falcon (sees one), then loads
   the dashboard `loads` times each: navigation duration (request to load event, htmx and CSS included).
3. The console process's RSS after all of that.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright
from tests.support.sso import CHROMIUM, chromium_args

from bench.harness import apply_all, quota, rss_mb, summary, tenant, wait_ready
from kubetenancy.k8s import Kube
from kubetenancy.localcluster import keycloak, sso_realm
from kubetenancy.localcluster.companions import start_apiserver, start_operator
from kubetenancy.localcluster.console_site import start_console, wait_until_trusted
from kubetenancy.localcluster.controlplane import ControlPlane
from kubetenancy.localcluster.gobuild import ensure_binaries


def _keycloak_start(directory: Path) -> tuple[float, keycloak.Site, Any]:
    site = keycloak.prepare(directory)
    began = time.monotonic()
    process = keycloak.start(site, directory / "keycloak.log")
    keycloak.wait_ready(site, process)
    return time.monotonic() - began, site, process


def _page_loads(site: keycloak.Site, user: str, loads: int) -> dict[str, float]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=chromium_args(site), headless=True)
        page = browser.new_page()
        page.goto(f"{site.console_url}/")
        page.click("#sso-login")
        page.fill("#username", user)
        page.fill("#password", site.passwords[user])
        page.click("#kc-login")
        page.wait_for_url(f"{site.console_url}/")
        durations = []
        for _ in range(loads):
            page.goto(f"{site.console_url}/", wait_until="load")
            durations.append(float(page.evaluate("performance.getEntriesByType('navigation')[0].duration")))
        browser.close()
    return summary(durations)


async def _tenants(kube: Kube, count: int) -> None:
    await kube.apply(quota("bench-quota", {"configmaps": "50", "memory": "8Gi"}))
    tenants = [tenant(f"bench-{i}", "bench-quota") for i in range(count)]
    tenants[0]["spec"]["accessControl"]["owners"]["users"].append("falcon@nordmart.com")
    await apply_all(kube, tenants, 8)
    await wait_ready(kube, [t["metadata"]["name"] for t in tenants], 300)


def run(*, quick: bool = False) -> dict[str, Any]:
    count, loads, runs = (20, 10, 1) if quick else (100, 40, 3)
    keycloak.ensure_keycloak()
    with tempfile.TemporaryDirectory(prefix="kubetenancy-bench-console-") as scratch:
        directory = Path(scratch)
        seconds, site, idp = _keycloak_start(directory / "keycloak")
        starts = [seconds]
        plane = ControlPlane(directory / "plane", authentication_config=site.authentication_configuration())
        binaries = ensure_binaries()
        plane.start(binaries)
        processes = [idp]
        try:
            operator, _ = start_operator(plane.cluster(), directory, directory / "certs")
            processes.append(operator)
            processes.append(start_apiserver(plane.cluster(), directory, directory / "apiserver-certs"))
            wait_until_trusted(plane.cluster(), site)
            subprocess.run(
                [binaries.kubectl, f"--kubeconfig={plane.cluster().kubeconfig()}", "apply", "-f", "-"],
                input=json.dumps(sso_realm.admin_binding()).encode(),
                check=True,
                capture_output=True,
            )

            async def setup() -> None:
                async with Kube(plane.cluster().kubeconfig()) as kube:
                    await _tenants(kube, count)

            asyncio.run(setup())
            console = start_console(plane.cluster(), site, directory / "console.log")
            processes.append(console)
            dashboard = {
                "admin_sees_all_ms": _page_loads(site, "mto", loads),
                "owner_sees_one_ms": _page_loads(site, "falcon@nordmart.com", loads),
            }
            console_rss = rss_mb(console)
        finally:
            for process in reversed(processes):
                process.stop()
            plane.stop()
        for index in range(1, runs):
            seconds, _, again = _keycloak_start(directory / f"keycloak-{index}")
            again.stop()
            starts.append(seconds)
    return {
        "tenants": count,
        "loads": loads,
        "dashboard": dashboard,
        "console_rss_mb": console_rss,
        "keycloak_start_s": starts,
    }


def main() -> None:
    """`python -m bench.console [--quick]`: writes bench/results/<date>-console.json."""
    import argparse
    import datetime

    parser = argparse.ArgumentParser(prog="python -m bench.console")
    parser.add_argument("--quick", action="store_true")
    results = run(quick=parser.parse_args().quick)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    out = Path(__file__).parent / "results" / f"{stamp}-console.json"
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
