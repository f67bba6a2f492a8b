"""The admission webhook server: decode each AdmissionReview once, run the webhook's rules, answer.

A small aiohttp app over TLS (certificates from `webhook_server.ensure_certificates`). Each path serves
one webhook of the registry; rules are pure functions of the request and the tenancy view. Bypassed
groups and privileged users skip the webhooks that allow it. A mutating webhook's rules may return JSON
Patch operations; they are combined and sent back as the response's patch. Warnings of every rule that ran
are sent back too (kubectl prints them as `Warning: ...`).
"""

from __future__ import annotations

import base64
import json
import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from aiohttp import web

from kubetenancy.admission import Decision, Request
from kubetenancy.admission.decision import Missing
from kubetenancy.admission.registry import Handler, Registered
from kubetenancy.admission.view import TenancyView
from kubetenancy.operator.probes import ADMISSION_REVIEWS, ADMISSION_SECONDS
from kubetenancy.serving import start_site

Confirm = Callable[[Missing], Awaitable[bool]]
"""Whether objects a rule found missing exist after all (recording them in the view when they do)."""
log = logging.getLogger(__name__)


def review_response(review: dict[str, Any], decision: Decision) -> dict[str, Any]:
    response: dict[str, Any] = {"uid": review["request"]["uid"], "allowed": decision.allowed}
    if decision.allowed and decision.patch:
        response["patchType"] = "JSONPatch"
        response["patch"] = base64.b64encode(json.dumps(list(decision.patch)).encode()).decode()
    if decision.warnings:
        response["warnings"] = list(decision.warnings)
    if not decision.allowed:
        response["status"] = {
            "code": decision.code,
            "reason": decision.reason,
            "message": decision.message,
            "status": "Failure",
        }
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}


def confirming(*confirms: Confirm) -> Confirm:
    """One `Confirm` of several, each for the kinds its engine knows (it answers False for the others)."""

    async def confirm(missing: Missing) -> bool:
        for one in confirms:
            if await one(missing):
                return True
        return False

    return confirm


def _decide(registered: Registered, request: Request, view: TenancyView) -> Decision:
    patch: list[dict[str, Any]] = []
    warnings: list[str] = []
    missing: list[Missing] = []
    for rule in registered.rules:
        decision = rule(request, view)
        warnings += decision.warnings
        missing += decision.missing
        if not decision.allowed:
            return replace(decision, warnings=tuple(warnings), missing=tuple(missing))
        patch += decision.patch
    return Decision(True, patch=tuple(patch), warnings=tuple(warnings), missing=tuple(missing))


def rules_handler(registered: Registered, view: TenancyView, confirm: Confirm | None = None) -> Handler:
    """The webhook's rules over the view. A decision made without objects the view has not seen (created a
    moment ago) is checked once with `confirm`, which reads them into the view, and made again if any exist.
    An admitted request is then recorded by the webhook's `on_admit`, if it has one."""

    async def handle(request: Request) -> Decision:
        if registered.spec.bypassable and view.policy.bypasses(request.user, request.groups):
            return Decision.allow()
        decision = _decide(registered, request, view)
        if decision.missing and confirm is not None:
            found = [await confirm(missing) for missing in decision.missing]
            if any(found):
                decision = _decide(registered, request, view)
        if decision.allowed and registered.on_admit is not None:
            registered.on_admit(request, view)  # no await since the last decision: nothing came between
        return replace(decision, missing=())

    return handle


class AdmissionServer:
    def __init__(self, webhooks: list[Registered], view: TenancyView, confirm: Confirm) -> None:
        """Serves each webhook at its path: its own handler, or its rules over `view`."""
        self.handlers: dict[str, tuple[str, Handler]] = {
            r.spec.path: (r.spec.name, r.handler or rules_handler(r, view, confirm)) for r in webhooks
        }
        self._runner: web.AppRunner | None = None

    async def _serve(self, http: web.Request) -> web.Response:
        began = time.perf_counter()
        name, handler = self.handlers[http.path]
        review = await http.json()
        try:
            decision = await handler(Request.from_review(review))
        except Exception as error:
            # Not a verdict: an HTTP error lets the API server apply the webhook's failure policy.
            log.exception("webhook %s failed on %s", name, review.get("request", {}).get("uid"))
            raise web.HTTPInternalServerError(text=f"{name} failed internally; see the operator's log") from error
        ADMISSION_REVIEWS.labels(name, str(decision.allowed).lower()).inc()
        response = web.json_response(review_response(review, decision))
        ADMISSION_SECONDS.labels(name).observe(time.perf_counter() - began)
        return response

    async def start(self, addr: str, port: int, context: ssl.SSLContext) -> None:
        self._runner = await start_site([web.post(path, self._serve) for path in self.handlers], addr, port, context)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
