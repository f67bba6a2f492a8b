"""Run the operator in the foreground until it is signalled to stop."""

from __future__ import annotations

import asyncio
import logging
import os

import kopf

from kubetenancy.operator.config import OperatorConfig
from kubetenancy.operator.handlers import build_registry
from kubetenancy.operator.probes import Probes


def run(config: OperatorConfig) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx2").setLevel(logging.WARNING)  # one line per API request drowns the rest
    if config.kubeconfig is not None:
        # kopf's own kubeconfig login reads $KUBECONFIG.
        os.environ["KUBECONFIG"] = str(config.kubeconfig)
    registry = build_registry(config, Probes())
    asyncio.run(kopf.operator(registry=registry, clusterwide=True, standalone=True))
