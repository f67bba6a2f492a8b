"""EKS tokens (`k8s-aws-v1.<base64url presigned STS GetCallerIdentity URL>`): make and check them. Pure.

Checking is everything short of calling STS: the URL must point at a trusted STS endpoint, be the
GetCallerIdentity request with only the expected query parameters, have the cluster-id header among
its signed headers, and be fresh. STS then verifies the signature when the authenticator calls it.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_ID_HEADER = "x-k8s-aws-id"
TOKEN_LIFETIME = datetime.timedelta(minutes=15)
CLOCK_SKEW = datetime.timedelta(minutes=5)
AWS_STS_HOST = re.compile(r"^sts(\.[a-z0-9-]+)?\.amazonaws\.com(\.cn)?$")
ALLOWED_PARAMETERS = {
    "Action",
    "Version",
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
}


class TokenRejected(ValueError):
    """Why a token is not accepted; safe to log (it never contains the token)."""


@dataclass(frozen=True)
class CheckedToken:
    url: str
    access_key_id: str


def encode(url: str) -> str:
    return TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def decode(token: str) -> str:
    if not token.startswith(TOKEN_PREFIX):
        raise TokenRejected("not an EKS token (no k8s-aws-v1. prefix)")
    body = token[len(TOKEN_PREFIX) :]
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise TokenRejected("token body is not base64url") from None


def _trusted(scheme: str, host: str, extra_endpoints: frozenset[str]) -> bool:
    if f"{scheme}://{host}" in extra_endpoints:
        return True
    return scheme == "https" and AWS_STS_HOST.match(host) is not None


def check(token: str, *, now: datetime.datetime, extra_endpoints: frozenset[str] = frozenset()) -> CheckedToken:
    """Everything but the signature. `extra_endpoints` trusts more STS base URLs (e.g. a test STS)."""
    url = decode(token)
    parts = urlsplit(url)
    if not _trusted(parts.scheme, parts.netloc, extra_endpoints):
        raise TokenRejected(f"STS endpoint {parts.scheme}://{parts.netloc} is not trusted")
    if parts.path not in ("", "/"):
        raise TokenRejected(f"unexpected path {parts.path!r} in the STS URL")
    query = parse_qs(parts.query, keep_blank_values=True)
    unexpected = sorted(set(query) - ALLOWED_PARAMETERS)
    if unexpected:
        raise TokenRejected(f"unexpected query parameters {unexpected}")
    if any(len(values) != 1 for values in query.values()):
        raise TokenRejected("a query parameter is repeated")
    params = {k: v[0] for k, v in query.items()}
    if params.get("Action") != "GetCallerIdentity":
        raise TokenRejected(f"the URL asks STS for {params.get('Action')!r}, not GetCallerIdentity")
    if CLUSTER_ID_HEADER not in params.get("X-Amz-SignedHeaders", "").split(";"):
        raise TokenRejected(f"the {CLUSTER_ID_HEADER} header is not signed")
    try:
        signed_at = datetime.datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
    except (KeyError, ValueError):
        raise TokenRejected("X-Amz-Date is missing or malformed") from None
    if now > signed_at + TOKEN_LIFETIME:
        raise TokenRejected(f"token expired (signed {signed_at:%Y-%m-%dT%H:%M:%SZ}, valid for 15 minutes)")
    if signed_at > now + CLOCK_SKEW:
        raise TokenRejected("token is signed in the future")
    access_key_id = params.get("X-Amz-Credential", "").split("/", 1)[0]
    return CheckedToken(url=url, access_key_id=access_key_id)
