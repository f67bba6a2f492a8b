"""The admission webhook server: TLS from our own CA, reached by URL (local) or through a Service.

kopf's own self-signed certificates need oscrypto, which breaks on OpenSSL 3, so certificates come from
`kubetenancy.pki`. They are made once per cert directory and reused, so the API server's caBundle stays
valid across operator restarts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import kopf

from kubetenancy import pki
from kubetenancy.operator.config import OperatorConfig


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
    directory = config.cert_dir
    ca_file, cert_file, key_file = directory / "ca.crt", directory / "webhook.crt", directory / "webhook.key"
    if not (ca_file.exists() and cert_file.exists() and key_file.exists()):
        ca = pki.new_ca("kubetenancy-webhook-ca")
        ca.write(directory, "ca")
        pki.issue(ca, "kubetenancy-webhook", hosts=serving_hosts(config), server=True).write(
            directory, "webhook"
        )
    return ca_file, cert_file, key_file


class ServiceWebhookServer(kopf.WebhookServer):
    """Serves like kopf's server but tells the API server to come through a Service."""

    def __init__(self, *, service: tuple[str, str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.service = service

    async def __call__(self, fn: Any) -> AsyncIterator[Any]:
        namespace, name = self.service
        async for client_config in super().__call__(fn):
            yield {
                "service": {"namespace": namespace, "name": name, "port": 443, "path": ""},
                "caBundle": client_config["caBundle"],
            }


def webhook_server(config: OperatorConfig) -> kopf.WebhookServer:
    ca_file, cert_file, key_file = ensure_certificates(config)
    common: dict[str, Any] = {
        "addr": config.webhook_addr,
        "port": config.webhook_port,
        "cafile": ca_file,
        "certfile": cert_file,
        "pkeyfile": key_file,
    }
    if config.webhook_service is not None:
        return ServiceWebhookServer(service=config.webhook_service, **common)
    return kopf.WebhookServer(host=config.webhook_host or config.webhook_addr, **common)
