"""OpenID Connect for the console: the authorization code flow with PKCE, refresh, and logout URLs.

Talks only to the identity provider (discovery, token endpoint, JWKS) over TLS. ID tokens are checked
(signature from the provider's JWKS, issuer, audience, expiry, nonce) with PyJWT before a session is
made from them; the API server checks them again on every request. Tokens are returned to the caller,
never logged.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import jwt

SCOPES = "openid email profile"


class OidcError(Exception):
    """The provider refused or answered something unusable; the message is safe to show (no tokens)."""


@dataclass(frozen=True)
class Tokens:
    """What the token endpoint answered (kept server-side only)."""

    id_token: str
    refresh_token: str | None
    expires_at: float
    """When the ID token expires (epoch seconds)."""
    claims: dict[str, Any]


@dataclass(frozen=True)
class LoginStart:
    """What the console remembers between sending the browser to the provider and its return."""

    url: str
    state: str
    nonce: str
    verifier: str


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class OidcClient:
    """One client of one issuer: confidential (the console) when it has a secret, else public (kubectl)."""

    def __init__(self, issuer: str, client_id: str, client_secret: str | None, context: ssl.SSLContext) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self._secret = client_secret
        self._context = context
        self._discovery: dict[str, Any] | None = None
        self._keys: jwt.PyJWKSet | None = None
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=self._context), timeout=aiohttp.ClientTimeout(total=15)
            )
        return self._session

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with self._http().get(url) as response:
                if response.status != 200:
                    raise OidcError(f"the identity provider answered {response.status} for {url}")
                answer: dict[str, Any] = await response.json()
                return answer
        except aiohttp.ClientError as error:
            raise OidcError(f"the identity provider at {self.issuer} cannot be reached: {error}") from error

    async def discovery(self) -> dict[str, Any]:
        if self._discovery is None:
            self._discovery = await self._get_json(f"{self.issuer}/.well-known/openid-configuration")
            if self._discovery.get("issuer") != self.issuer:
                raise OidcError(f"the provider calls itself {self._discovery.get('issuer')}, not {self.issuer}")
        return self._discovery

    async def start(self, redirect_uri: str) -> LoginStart:
        """Where to send the browser to log in, with fresh state, nonce and PKCE verifier."""
        endpoint = (await self.discovery())["authorization_endpoint"]
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        query = {
            "client_id": self.client_id,
            "response_type": "code",
            "scope": SCOPES,
            "redirect_uri": redirect_uri,
            "state": state,
            "nonce": nonce,
            "code_challenge": _challenge(verifier),
            "code_challenge_method": "S256",
        }
        return LoginStart(f"{endpoint}?{urlencode(query)}", state, nonce, verifier)

    async def _token_request(self, form: dict[str, str], nonce: str | None) -> Tokens:
        endpoint = (await self.discovery())["token_endpoint"]
        auth = aiohttp.BasicAuth(self.client_id, self._secret) if self._secret else None
        if auth is None:
            form = {**form, "client_id": self.client_id}
        try:
            async with self._http().post(endpoint, data=form, auth=auth) as response:
                answer = await response.json(content_type=None)
        except aiohttp.ClientError as error:
            raise OidcError(f"the identity provider at {self.issuer} cannot be reached: {error}") from error
        if "id_token" not in answer:
            reason = answer.get("error_description") or answer.get("error") or "no ID token in its answer"
            raise OidcError(f"the identity provider refused: {reason}")
        claims = await self.verify(answer["id_token"], nonce)
        return Tokens(answer["id_token"], answer.get("refresh_token"), float(claims["exp"]), claims)

    async def exchange(self, code: str, redirect_uri: str, verifier: str, nonce: str) -> Tokens:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
        return await self._token_request(form, nonce)

    async def refresh(self, refresh_token: str) -> Tokens:
        return await self._token_request({"grant_type": "refresh_token", "refresh_token": refresh_token}, None)

    async def verify(self, id_token: str, nonce: str | None) -> dict[str, Any]:
        """The ID token's claims, once its signature, issuer, audience, expiry and nonce hold."""
        if self._keys is None:
            self._keys = jwt.PyJWKSet.from_dict(await self._get_json((await self.discovery())["jwks_uri"]))
        try:
            kid = jwt.get_unverified_header(id_token).get("kid")
            key = next(k for k in self._keys.keys if k.key_id == kid)
            claims: dict[str, Any] = jwt.decode(
                id_token, key=key, algorithms=["RS256", "ES256"], audience=self.client_id, issuer=self.issuer, leeway=30
            )
        except (jwt.PyJWTError, StopIteration) as error:
            raise OidcError(f"the ID token does not verify: {error or 'unknown signing key'}") from error
        if nonce is not None and not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise OidcError("the ID token was not issued for this login (nonce mismatch)")
        return claims

    async def logout_url(self, id_token: str, post_logout_redirect: str) -> str | None:
        """The provider's end-session URL (ends the SSO session too), or None if it has none."""
        endpoint = (await self.discovery()).get("end_session_endpoint")
        if not endpoint:
            return None
        query = {
            "id_token_hint": id_token,
            "post_logout_redirect_uri": post_logout_redirect,
            "client_id": self.client_id,
        }
        return f"{endpoint}?{urlencode(query)}"


def expired(tokens: Tokens, margin: float = 30.0) -> bool:
    return tokens.expires_at - margin <= time.time()
