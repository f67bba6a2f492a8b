"""Run the operator in the foreground until it is signalled to stop.

kopf ends the whole operator when one of its root tasks fails: a discovery of an API group that keeps
answering 503 (an aggregated APIService whose server is gone, nolar/kopf#1073), a watch that fails on
and on. For a webhook with `failurePolicy: Fail` that outage is everybody's outage, so an operator that
has been ready once restarts its core (kopf, the index, the admission server) on a fresh event loop,
after a delay that grows while it keeps failing. One that never got ready exits with the error: that is
a configuration to fix, not a hiccup to ride out."""

from __future__ import annotations

import asyncio
import logging
import os
import time

import kopf

from kubetenancy.operator.config import OperatorConfig
from kubetenancy.operator.handlers import build_registry
from kubetenancy.operator.probes import CORE_RESTARTS, Probes

logger = logging.getLogger(__name__)

MAX_RESTART_DELAY = 30.0
"""Seconds: the longest wait between two restarts of a core that keeps failing."""
STEADY_AFTER = 60.0
"""Seconds: a core that ran this long before failing counts as a first failure again."""
CORE_FAILED = "the operator's core failed"
"""How the log line of each restart begins."""


def restart_delay(failures: int) -> float:
    """1, 2, 4 … seconds for the first, second, third … failure in a row, never more than 30."""
    return float(min(MAX_RESTART_DELAY, 2 ** (failures - 1)))


def run(config: OperatorConfig) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx2").setLevel(logging.WARNING)  # one line per API request drowns the rest
    if config.kubeconfig is not None:
        # kopf's own kubeconfig login reads $KUBECONFIG.
        os.environ["KUBECONFIG"] = str(config.kubeconfig)
    probes = Probes()
    failures = 0
    while True:
        started = time.monotonic()
        try:
            # kopf returns when signalled (SIGINT, SIGTERM) and raises when one of its root tasks failed.
            asyncio.run(kopf.operator(registry=build_registry(config, probes), clusterwide=True, standalone=True))
            return
        except Exception:
            if not probes.served:
                raise
            failures = 1 if time.monotonic() - started >= STEADY_AFTER else failures + 1
            delay = restart_delay(failures)
            logger.exception("%s (%d in a row); restarting it in %.0f s", CORE_FAILED, failures, delay)
            CORE_RESTARTS.inc()
            time.sleep(delay)
