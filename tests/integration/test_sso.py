"""Single sign-on: the API servers trust the session's Keycloak, so an SSO user's ID token is a Kubernetes
identity, with the same name (and RBAC) as that user everywhere else."""

from __future__ import annotations

import base64
import json

import pytest

from kubetenancy.k8s import ApiError, Kube
from kubetenancy.localcluster.controlplane import Cluster
from kubetenancy.localcluster.keycloak import Site
from tests.support.sso import password_tokens

pytestmark = pytest.mark.integration


async def whoami(cluster: Cluster, token: str) -> dict[str, object]:
    async with Kube(cluster.kubeconfig("falcon@nordmart.com"), token=token) as kube:
        review = await kube.create({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    info: dict[str, object] = review["status"]["userInfo"]
    return info


async def test_an_sso_users_id_token_is_that_user_for_the_api_server(sso: Site, cluster: Cluster) -> None:
    tokens = password_tokens(sso, "falcon@nordmart.com")
    info = await whoami(cluster, tokens["id_token"])
    assert info["username"] == "falcon@nordmart.com"
    assert "logistics-dev" in info["groups"]  # type: ignore[operator]
    assert "system:authenticated" in info["groups"]  # type: ignore[operator]


async def test_the_realms_admins_are_cluster_admins(sso: Site, cluster: Cluster) -> None:
    tokens = password_tokens(sso, "mto")
    assert "cluster-admins" in (await whoami(cluster, tokens["id_token"]))["groups"]  # type: ignore[operator]
    async with Kube(cluster.kubeconfig("falcon@nordmart.com"), token=tokens["id_token"]) as kube:
        assert await kube.list("v1", "Namespace")


async def test_tokens_the_api_server_must_refuse(sso: Site, cluster: Cluster) -> None:
    falcon = password_tokens(sso, "falcon@nordmart.com")
    header, payload, signature = falcon["id_token"].split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    # The same claims re-encoded with another user name and the original signature.
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    other = base64.urlsafe_b64encode(json.dumps({**claims, "preferred_username": "mto"}).encode()).rstrip(b"=")
    for token in (forged, f"{header}.{other.decode()}.{signature}"):
        with pytest.raises(ApiError) as refused:
            await whoami(cluster, token)
        assert refused.value.status.code == 401
