"""A TokenReview webhook that authenticates EKS tokens the way EKS does.

The API server (`--authentication-token-webhook-config-file`) sends tokens it does not know. For an
EKS token: check it (trusted STS endpoint, GetCallerIdentity, signed cluster id, fresh), ask STS who
signed it, and map that ARN through `kube-system/aws-auth`. Tokens are never logged; only why one was
refused.
"""

from __future__ import annotations

import datetime
import logging
import ssl
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from kubetenancy.cloud import aws_auth, sts
from kubetenancy.cloud.arn import Caller
from kubetenancy.cloud.token import TOKEN_PREFIX, TokenRejected, check
from kubetenancy.k8s import Kube
from kubetenancy.serving import start_site

log = logging.getLogger(__name__)


def review(
    api_version: str, user: tuple[str, tuple[str, ...]] | None, caller: Caller | None, error: str
) -> dict[str, Any]:
    status: dict[str, Any] = {"authenticated": False}
    if user is not None and caller is not None:
        status = {
            "authenticated": True,
            "user": {
                "username": user[0],
                "uid": f"aws-iam-authenticator:{caller.account}:{caller.user_id}",
                "groups": list(user[1]),
                "extra": {
                    "arn": [caller.arn],
                    "canonicalArn": [caller.canonical_arn],
                    "sessionName": [caller.session_name],
                    "accessKeyId": [caller.access_key_id],
                },
            },
        }
    elif error:
        status["error"] = error
    return {"apiVersion": api_version, "kind": "TokenReview", "status": status}


class TokenReviewer:
    """Serves TokenReviews; its cluster client is made on first use, so it can start (and hold its port)
    before the API server it serves exists."""

    def __init__(self, kubeconfig: Path | None, cluster_id: str, extra_endpoints: frozenset[str]) -> None:
        self.kubeconfig = kubeconfig
        self._kube: Kube | None = None
        self.cluster_id = cluster_id
        self.extra_endpoints = extra_endpoints
        self._http: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None

    async def identify(self, token: str) -> tuple[tuple[str, tuple[str, ...]] | None, Caller | None, str]:
        if not token.startswith(TOKEN_PREFIX):
            return None, None, ""  # not ours: another authenticator may know it
        try:
            checked = check(token, now=datetime.datetime.now(datetime.UTC), extra_endpoints=self.extra_endpoints)
            assert self._http is not None
            caller = await sts.caller_of(self._http, checked.url, self.cluster_id, checked.access_key_id)
        except (TokenRejected, aiohttp.ClientError, TimeoutError) as error:
            log.info("EKS token refused: %s", error)
            return None, None, f"token refused: {error}"
        if self._kube is None:
            self._kube = Kube(self.kubeconfig)
        config = await self._kube.get("v1", "ConfigMap", "aws-auth", "kube-system")
        try:
            user = aws_auth.identity_for((config or {}).get("data") or {}, caller)
        except aws_auth.AwsAuthError as error:
            log.warning("%s", error)
            return None, caller, str(error)
        if user is None:
            log.info("EKS token of %s refused: not mapped in aws-auth", caller.arn)
            return None, caller, f"{caller.arn} is not mapped in kube-system/aws-auth"
        return user, caller, ""

    async def _serve(self, request: web.Request) -> web.Response:
        body = await request.json()
        user, caller, error = await self.identify(body.get("spec", {}).get("token", ""))
        return web.json_response(review(body.get("apiVersion", "authentication.k8s.io/v1"), user, caller, error))

    async def start(self, addr: str, port: int, context: ssl.SSLContext) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._runner = await start_site([web.post("/authenticate", self._serve)], addr, port, context)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()
        if self._kube is not None:
            await self._kube.close()
