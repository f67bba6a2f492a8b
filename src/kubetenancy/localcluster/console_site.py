"""The web console next to a local cluster, logging in through the local Keycloak site.

Used by `kubetenancy dev up`, the test fixtures and the benchmarks, so all three run it the same way.
The console gets the API server's URL and CA only: it has no credentials of its own.
"""

from __future__ import annotations

import ssl
import sys
from functools import partial
from pathlib import Path

from kubetenancy.localcluster.controlplane import Cluster
from kubetenancy.localcluster.keycloak import Site
from kubetenancy.localcluster.processes import Process, http_ok, spawn, wait_until

CONSOLE = "console"
READY_SECONDS = 60.0


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
    context = ssl.create_default_context(cafile=site.ca_file)
    try:
        wait_until(process, partial(http_ok, f"https://127.0.0.1:{port}/healthz", context), READY_SECONDS, "serving")
    except BaseException:
        process.stop()
        raise
    return process
