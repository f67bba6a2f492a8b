"""Webhook token authentication: the API server asks our TokenReview endpoint about unknown tokens."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from kubetenancy.k8s import ApiError, Kube
from kubetenancy.localcluster import kubeconfig
from kubetenancy.localcluster.controlplane import ControlPlane, TokenWebhook
from kubetenancy.localcluster.gobuild import Binaries
from tests.support.https_server import serve_https

pytestmark = pytest.mark.integration

KNOWN = {"webhook-token-1": ("webhook-user", ["webhook-group"])}


def token_review_server(reviews: list[str]) -> web.Application:
    async def review(request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        token = body["spec"]["token"]
        reviews.append(token)
        status: dict[str, Any] = {"authenticated": False}
        if token in KNOWN:
            user, groups = KNOWN[token]
            status = {"authenticated": True, "user": {"username": user, "uid": user, "groups": groups}}
        return web.json_response({"apiVersion": body["apiVersion"], "kind": "TokenReview", "status": status})

    app = web.Application()
    app.add_routes([web.post("/tokenreview", review)])
    return app


def token_kubeconfig(plane: ControlPlane, token: str, path: Path) -> Path:
    cluster = plane.cluster()
    return kubeconfig.write(path, kubeconfig.kubeconfig(cluster.name, cluster.server, plane.ca_file, "t", token=token))


async def test_token_webhook_authenticates_tokens_it_knows(binaries: Binaries, tmp_path: Path) -> None:
    reviews: list[str] = []
    async with serve_https(token_review_server(reviews), tmp_path) as server:
        plane = ControlPlane(
            tmp_path / "plane", token_webhook=TokenWebhook(f"{server.url}/tokenreview", server.ca_file)
        )
        await asyncio.to_thread(plane.start, binaries)
        try:
            async with Kube(token_kubeconfig(plane, "webhook-token-1", tmp_path / "good")) as kube:
                review = await kube.create({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
            assert review["status"]["userInfo"]["username"] == "webhook-user"
            assert "webhook-group" in review["status"]["userInfo"]["groups"]

            async with Kube(token_kubeconfig(plane, "forged-token", tmp_path / "bad")) as kube:
                with pytest.raises(ApiError) as raised:
                    await kube.list("v1", "Namespace")
            assert raised.value.status.code == 401

            # Static tokens are still answered by the token file, without asking the webhook.
            async with Kube(plane.cluster().kubeconfig("alice")) as kube:
                review = await kube.create({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
            assert review["status"]["userInfo"]["username"] == "alice"
            assert reviews == ["webhook-token-1", "forged-token"]
        finally:
            await asyncio.to_thread(plane.stop)
