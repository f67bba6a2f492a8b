"""moto in server mode on loopback: IAM and STS reached with boto3 exactly as AWS would be.

Two moto limits are worked around here, in the tests only (see shared/reference/aws-identity.md):
a presigned GET carries no Authorization header, so moto's single-port server would route it to S3;
and moto identifies a caller only from an Authorization header, not from SigV4 query parameters. So STS
is also served alone on a second port (same process, same state), behind a small WSGI adapter that
copies the presigned URL's credential scope into an Authorization header before moto reads it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from moto.moto_server.werkzeug_app import create_backend_app
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from kubetenancy.localcluster.processes import free_port

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def presigned_to_header(app: WSGIApp) -> WSGIApp:
    def adapter(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if "X-Amz-Credential" in query and "HTTP_AUTHORIZATION" not in environ:
            environ["HTTP_AUTHORIZATION"] = (
                f"AWS4-HMAC-SHA256 Credential={query['X-Amz-Credential'][0]}, "
                f"SignedHeaders={query.get('X-Amz-SignedHeaders', [''])[0]}, "
                f"Signature={query.get('X-Amz-Signature', [''])[0]}"
            )
        return app(environ, start_response)

    return adapter


@dataclass(frozen=True)
class MotoAws:
    endpoint: str
    """Every service (IAM, STS with an Authorization header)."""
    sts_endpoint: str
    """STS alone, for presigned GetCallerIdentity URLs."""

    def env(self, access_key: str = "testing", secret_key: str = "testing", session_token: str = "") -> dict[str, str]:
        """AWS environment for boto3 and the `aws token` exec plugin."""
        env = {
            "AWS_ACCESS_KEY_ID": access_key,
            "AWS_SECRET_ACCESS_KEY": secret_key,
            "AWS_DEFAULT_REGION": "eu-north-1",
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ENDPOINT_URL_STS": self.sts_endpoint,
        }
        if session_token:
            env["AWS_SESSION_TOKEN"] = session_token
        return env


@contextmanager
def moto_aws() -> Iterator[MotoAws]:
    main_port, sts_port = free_port(), free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=main_port, verbose=False)
    server.start()
    sts = make_server("127.0.0.1", sts_port, presigned_to_header(create_backend_app("sts")), threaded=True)
    thread = threading.Thread(target=sts.serve_forever, daemon=True)
    thread.start()
    try:
        yield MotoAws(f"http://127.0.0.1:{main_port}", f"http://127.0.0.1:{sts_port}")
    finally:
        sts.shutdown()
        server.stop()
