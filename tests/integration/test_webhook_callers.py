"""Only the API server may call the webhooks: forged AdmissionReviews posted from the host, without the
client certificate the API server presents (or with another of the plane's certificates), are refused
before any review is read, and the tenant's quota stays usable for its owner's real creates (real API
server with its admission configuration, real operator)."""

from __future__ import annotations

import base64
import ssl
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from kubetenancy.k8s import ApiError, Kube
from kubetenancy.localcluster.controlplane import Cluster
from tests.conftest import Authenticator
from tests.support.tenants import make_quota, make_tenant
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

RESERVE = "tenant-quota-reserve.kubetenancy.dev"


def configmap(name: str, namespace: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace}}


def forged_review(namespace: str, user: str) -> dict[str, Any]:
    """A CREATE of a ConfigMap as the API server would send it, made up by someone else."""
    name = f"forged-{uuid.uuid4().hex[:8]}"
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": str(uuid.uuid4()),
            "kind": {"group": "", "version": "v1", "kind": "ConfigMap"},
            "resource": {"group": "", "version": "v1", "resource": "configmaps"},
            "requestKind": {"group": "", "version": "v1", "kind": "ConfigMap"},
            "requestResource": {"group": "", "version": "v1", "resource": "configmaps"},
            "name": name,
            "namespace": namespace,
            "operation": "CREATE",
            "userInfo": {"username": user, "groups": ["system:authenticated"]},
            "object": configmap(name, namespace),
            "oldObject": None,
            "dryRun": False,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
        },
    }


async def reserve_webhook(admin: Kube) -> tuple[str, bytes]:
    """The URL the API server calls for the reservation webhook, and the CA it trusts there."""
    configuration = await admin.get("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "kubetenancy")
    assert configuration is not None
    webhook = next(w for w in configuration["webhooks"] if w["name"] == RESERVE)
    return webhook["clientConfig"]["url"], base64.b64decode(webhook["clientConfig"]["caBundle"])


async def post(url: str, ca: bytes, review: dict[str, Any], client_cert: tuple[Path, Path] | None) -> str:
    """What the caller gets: the HTTP status, or the name of the error that ended the connection first."""
    context = ssl.create_default_context(cadata=ca.decode())
    if client_cert is not None:
        context.load_cert_chain(*client_cert)
    async with aiohttp.ClientSession() as session:
        try:
            async with session.post(url, json=review, ssl=context) as response:
                return str(response.status)
        except aiohttp.ClientError as error:
            return type(error).__name__


async def test_forged_reviews_from_the_host_are_refused_and_the_quota_stays_usable(
    operator: str, admin: Kube, user_client: Callable[[str], Kube], cluster: Cluster
) -> None:
    await make_quota(admin, "forged-quota", {"configmaps": "4"})
    await make_tenant(
        admin,
        "forged",
        "forged-quota",
        namespaces={"withTenantPrefix": ["a", "b"]},
        accessControl={"owners": {"users": ["alice"]}},
    )
    for ns in ("forged-a", "forged-b"):

        async def counted(ns: str = ns) -> bool:
            quota = await admin.get("v1", "ResourceQuota", "kubetenancy-tenant-quota", ns)
            return ((quota or {}).get("status") or {}).get("used", {}).get("configmaps") == "1"

        await eventually(counted)  # each namespace's kube-root-ca.crt: room for 2 more in the tenant
    url, ca = await reserve_webhook(admin)
    pki_dir = cluster.state_dir / "pki"
    other_certificate = (pki_dir / "admin.crt", pki_dir / "admin.key")  # the plane's CA, not the webhook client CA
    for client_cert in (None, other_certificate):
        outcomes = {await post(url, ca, forged_review("forged-a", "alice"), client_cert) for _ in range(8)}
        assert not any(outcome.isdigit() for outcome in outcomes), (client_cert, outcomes)  # not even an HTTP status

    owner = user_client("alice")
    await owner.create(configmap("first", "forged-a"))
    await owner.create(configmap("second", "forged-b"))
    with pytest.raises(ApiError) as raised:  # the API server's own calls are still answered, and counted
        await owner.create(configmap("third", "forged-a"))
    assert "exceeded tenant quota: forged-quota" in raised.value.status.message


async def test_forged_token_reviews_are_refused(aws_authenticator: Authenticator) -> None:
    """The EKS-token authenticator serves only the API server (tests/integration/test_aws_identity.py: its
    tokens still authenticate): a TokenReview posted by anyone else gets no answer, which would tell them
    whether a token is good and make STS calls for them."""
    webhook = aws_authenticator.webhook
    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": "k8s-aws-v1.x"}}
    outcome = await post(webhook.url, webhook.ca_file.read_bytes(), review, None)
    assert not outcome.isdigit(), outcome
