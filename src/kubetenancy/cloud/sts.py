"""Talking to STS: presign the token request (client side) and ask who signed a token (server side)."""

from __future__ import annotations

import datetime
import json
import xml.etree.ElementTree as ElementTree
from typing import Any

import aiohttp
import boto3

from kubetenancy.cloud.arn import Caller
from kubetenancy.cloud.token import CLUSTER_ID_HEADER, TokenRejected, encode

PRESIGN_SECONDS = 60


def presigned_token(cluster_id: str, session: boto3.Session | None = None) -> str:
    """A token for `cluster_id`, as `aws eks get-token` makes it, from the usual AWS credential chain."""
    client = (session or boto3.Session()).client("sts")

    def add_cluster_id(request: Any, **_: Any) -> None:
        request.headers[CLUSTER_ID_HEADER] = cluster_id

    client.meta.events.register("before-sign.sts.GetCallerIdentity", add_cluster_id)
    url: str = client.generate_presigned_url(
        "get_caller_identity", Params={}, ExpiresIn=PRESIGN_SECONDS, HttpMethod="GET"
    )
    return encode(url)


def exec_credential(token: str, now: datetime.datetime) -> dict[str, Any]:
    """What a kubeconfig exec plugin prints (as `aws eks get-token` does)."""
    expiry = now + datetime.timedelta(minutes=14)
    return {
        "kind": "ExecCredential",
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "spec": {},
        "status": {"expirationTimestamp": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"), "token": token},
    }


def parse_caller(body: str, content_type: str, access_key_id: str) -> Caller:
    """STS answers JSON when asked (real AWS) or XML (moto, older endpoints); accept both."""
    if "json" in content_type:
        result = json.loads(body)["GetCallerIdentityResponse"]["GetCallerIdentityResult"]
        return Caller(result["Arn"], result["Account"], access_key_id, result.get("UserId", ""))
    root = ElementTree.fromstring(body)
    found = {el.tag.rsplit("}", 1)[-1]: (el.text or "") for el in root.iter()}
    if "Arn" not in found:
        raise TokenRejected("STS answered without a caller ARN")
    return Caller(found["Arn"], found.get("Account", ""), access_key_id, found.get("UserId", ""))


async def caller_of(http: aiohttp.ClientSession, url: str, cluster_id: str, access_key_id: str) -> Caller:
    """Ask STS who signed the presigned URL (STS checks the signature and the cluster id)."""
    headers = {CLUSTER_ID_HEADER: cluster_id, "Accept": "application/json"}
    async with http.get(url, headers=headers, allow_redirects=False) as response:
        body = await response.text()
        if response.status != 200:
            raise TokenRejected(f"STS refused the token (HTTP {response.status})")
        return parse_caller(body, response.headers.get("Content-Type", ""), access_key_id)
