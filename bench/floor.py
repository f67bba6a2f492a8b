"""The admission floor: a webhook that answers `allowed` at once, registered exactly as ours are.

`python -m bench.floor --port P --cert-dir D` serves it over TLS (a certificate from `kubetenancy.pki`, as
the operator's). `registration` makes its webhook configuration from the operator's own registry: the
same rules (the reservation webhook's for the same quota), object selectors, timeouts, failure policies
and side effects, with the namespace selector pointed at namespaces labelled `FLOOR_LABEL` (the same
shape as ours: a label that exists). What a request costs there beyond a plain namespace is the price
of any webhook on this control plane: the round trips, TLS, and the API server's own work for them.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import dataclasses
import json
import signal
from collections.abc import Set
from pathlib import Path
from typing import Any

from aiohttp import web

from kubetenancy import pki
from kubetenancy.admission.registry import registry
from kubetenancy.admission.view import TenancyView
from kubetenancy.desired.webhooks import TENANT_NAMESPACES, configurations
from kubetenancy.operator.quota_ledger import QuotaLedger
from kubetenancy.serving import start_site, tls_context

FLOOR_LABEL = "bench.kubetenancy.dev/floor"
NAME = "kubetenancy-bench-floor"


def certificates(cert_dir: Path) -> tuple[Path, Path, Path]:
    return pki.serving_certificates(cert_dir, "floor", ("127.0.0.1", "localhost"))


def registration(port: int, cert_dir: Path, limited: Set[str]) -> list[dict[str, Any]]:
    """The floor's webhook configurations: every webhook of ours that sees tenant namespaces, re-aimed."""
    ca_file, _, _ = certificates(cert_dir)
    bundle = base64.b64encode(ca_file.read_bytes()).decode()
    floor = {"matchExpressions": [{"key": FLOOR_LABEL, "operator": "Exists"}]}
    specs = [
        dataclasses.replace(r.spec, name=f"floor-{r.spec.name}", namespace_selector=floor)
        for r in registry("multi-tenant-operator", QuotaLedger(TenancyView()))
        if r.spec.namespace_selector == TENANT_NAMESPACES
    ]
    made = configurations(specs, lambda path: {"url": f"https://127.0.0.1:{port}{path}", "caBundle": bundle}, limited)
    return [{**c, "metadata": {**c["metadata"], "name": NAME}} for c in made if c["webhooks"]]


async def _allow(request: web.Request) -> web.Response:
    review = await request.json()
    answer = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}
    answer["response"] = {"uid": review["request"]["uid"], "allowed": True}
    return web.Response(body=json.dumps(answer), content_type="application/json")


async def _serve(port: int, cert_dir: Path, client_ca: Path | None) -> None:
    _, cert_file, key_file = certificates(cert_dir)
    context = tls_context(cert_file, key_file, client_ca)
    runner = await start_site([web.post("/{path:.*}", _allow)], "127.0.0.1", port, context)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.floor")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert-dir", type=Path, required=True)
    parser.add_argument("--client-ca", type=Path, help="require the API server's client certificate, as ours do")
    args = parser.parse_args()
    asyncio.run(_serve(args.port, args.cert_dir, args.client_ca))


if __name__ == "__main__":
    main()
