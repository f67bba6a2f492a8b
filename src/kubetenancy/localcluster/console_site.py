"""The web console next to a local cluster, logging in through the local Keycloak site.

Used by `kubetenancy dev up`, the test fixtures and the benchmarks, so all three run it the same way.
The console gets the API server's URL and CA only: it has no credentials of its own.
"""

from __future__ import annotations

import json
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from functools import partial
from pathlib import Path

from kubetenancy.localcluster import sso_realm
from kubetenancy.localcluster.controlplane import Cluster
from kubetenancy.localcluster.keycloak import Site
from kubetenancy.localcluster.processes import Process, StartupError, http_ok, spawn, wait_until

CONSOLE = "console"
READY_SECONDS = 60.0
TRUST_SECONDS = 180.0


def _accepted(cluster: Cluster, token: str) -> bool:
    review = json.dumps({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}).encode()
    request = urllib.request.Request(
        f"{cluster.server}/apis/authentication.k8s.io/v1/selfsubjectreviews",
        review,
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    context = ssl.create_default_context(cafile=cluster.state_dir / "pki" / "ca.crt")
    try:
        with urllib.request.urlopen(request, timeout=5, context=context) as answer:
            return bool(answer.status == 201)
    except (urllib.error.URLError, OSError):
        return False


def wait_until_trusted(cluster: Cluster, site: Site, timeout: float = TRUST_SECONDS) -> None:
    """Wait until the API server accepts the realm's ID tokens: its JWT authenticator fetches the issuer's
    keys in the background, retrying with a backoff when Keycloak was not up yet."""
    form = urllib.parse.urlencode(
        {"grant_type": "password", "client_id": sso_realm.SCRIPTS_CLIENT, "username": "dev",
         "password": site.passwords["dev"], "scope": "openid"}
    ).encode()  # fmt: skip
    context = ssl.create_default_context(cafile=site.ca_file)
    with urllib.request.urlopen(f"{site.issuer}/protocol/openid-connect/token", form, context=context) as answer:
        token = json.load(answer)["id_token"]
    deadline = time.monotonic() + timeout
    while not _accepted(cluster, token):
        if time.monotonic() > deadline:
            raise StartupError(f"{cluster.name} did not accept ID tokens of {site.issuer} within {timeout:.0f}s")
        time.sleep(1)


def start_console(
    cluster: Cluster, site: Site, log: Path, *, port: int | None = None, extra: tuple[str, ...] = ()
) -> Process:
    """Run the console for `cluster` with single sign-on through `site` until it answers `/healthz`.

    `port` defaults to the one the realm accepts redirects for; `extra` are more `console run` options.
    """
    directory = Path(site.directory)
    port = port or site.console_port
    process = spawn(
        CONSOLE,
        [
            sys.executable, "-m", "kubetenancy", "console", "run",
            f"--api-server={cluster.server}", f"--api-ca-file={cluster.state_dir / 'pki' / 'ca.crt'}",
            f"--cert-file={directory / 'console.crt'}", f"--key-file={directory / 'console.key'}",
            f"--port={port}", f"--public-url=https://127.0.0.1:{port}",
            f"--issuer={site.issuer}", f"--issuer-ca-file={site.ca_file}",
            f"--client-secret-file={directory / 'console-client-secret'}", *extra,
        ],
        log,
    )  # fmt: skip
    try:
        wait_until(process, ready(process), READY_SECONDS, "serving")
    except BaseException:
        process.stop()
        raise
    return process


def ready(process: Process) -> partial[bool]:
    """Whether a started console answers `/healthz` (its port and CA from its own command line)."""
    flags = dict(arg.removeprefix("--").split("=", 1) for arg in map(str, process.argv) if arg.startswith("--"))
    context = ssl.create_default_context(cafile=flags["issuer-ca-file"])
    return partial(http_ok, f"https://127.0.0.1:{flags['port']}/healthz", context)
