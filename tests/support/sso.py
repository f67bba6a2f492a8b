"""Helpers for tests that log in through the session's Keycloak: password-grant tokens and a browser."""

from __future__ import annotations

import base64
import hashlib
import json
import ssl
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from kubetenancy.localcluster import sso_realm
from kubetenancy.localcluster.keycloak import Site

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts" / "console"


def password_tokens(site: Site, user: str) -> dict[str, Any]:
    """Tokens for `user` from the realm's scripts client (password grant; its ID tokens are also for kubectl)."""
    form = urllib.parse.urlencode(
        {
            "grant_type": "password",
            "client_id": sso_realm.SCRIPTS_CLIENT,
            "username": user,
            "password": site.passwords[user],
            "scope": "openid",
        }
    ).encode()
    context = ssl.create_default_context(cafile=site.ca_file)
    with urllib.request.urlopen(f"{site.issuer}/protocol/openid-connect/token", form, context=context) as answer:
        tokens: dict[str, Any] = json.load(answer)
        return tokens


def spki_hash(cert_file: Path) -> str:
    """What Chromium's --ignore-certificate-errors-spki-list takes: base64(SHA-256(SubjectPublicKeyInfo))."""
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def chromium_args(site: Site) -> list[str]:
    """The known-good flags, trusting exactly the site's Keycloak and console certificates (no others)."""
    hashes = ",".join(spki_hash(Path(site.directory) / name) for name in ("server.crt", "console.crt"))
    return [*CHROMIUM_FLAGS, f"--ignore-certificate-errors-spki-list={hashes}"]
