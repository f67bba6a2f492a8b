"""How the API server reaches the admission server: TLS material and the webhooks' client config.

Certificates come from `kubetenancy.pki` (kopf's own self-signed path needs oscrypto, which breaks on
OpenSSL 3). They are made once per cert directory and reused, so the configuration's caBundle stays
valid across operator restarts. Locally the API server dials a URL; in a cluster it goes through a
Service. Callers are authenticated by the client certificate the API server presents (its admission
configuration's `kubeConfigFile`) when the operator is given that certificate's CA.
"""

from __future__ import annotations

import base64
import ssl
from pathlib import Path
from typing import Any

from kubetenancy import pki
from kubetenancy.operator.config import OperatorConfig
from kubetenancy.serving import tls_context


def serving_hosts(config: OperatorConfig) -> tuple[str, ...]:
    hosts = [config.webhook_addr, "localhost"]
    if config.webhook_host:
        hosts.append(config.webhook_host)
    if config.webhook_service:
        namespace, name = config.webhook_service
        hosts += [f"{name}.{namespace}.svc", f"{name}.{namespace}.svc.cluster.local"]
    return tuple(dict.fromkeys(hosts))


def ensure_certificates(config: OperatorConfig) -> tuple[Path, Path, Path]:
    """(CA file, certificate file, key file) for the webhook server, made if missing."""
    return pki.serving_certificates(config.cert_dir, "webhook", serving_hosts(config))


def server_context(config: OperatorConfig) -> ssl.SSLContext:
    """TLS of the webhook port; with `webhook_client_ca`, callers without the API server's client certificate
    are refused in the handshake."""
    _, cert_file, key_file = ensure_certificates(config)
    return tls_context(cert_file, key_file, config.webhook_client_ca)


def client_config(config: OperatorConfig, path: str) -> dict[str, Any]:
    ca_file, _, _ = ensure_certificates(config)
    bundle = base64.b64encode(ca_file.read_bytes()).decode()
    if config.webhook_service is not None:
        namespace, name = config.webhook_service
        return {"service": {"namespace": namespace, "name": name, "port": 443, "path": path}, "caBundle": bundle}
    host = config.webhook_host or config.webhook_addr
    return {"url": f"https://{host}:{config.webhook_port}{path}", "caBundle": bundle}
