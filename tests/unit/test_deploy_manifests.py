"""The CRDs shipped in deploy/ are exactly the ones generated from the typed models."""

from __future__ import annotations

from pathlib import Path

import yaml

from kubetenancy.api import crd_manifests

DEPLOY = Path(__file__).parents[2] / "deploy" / "crds"


def test_deploy_crds_are_up_to_date() -> None:
    shipped = {path.name: yaml.safe_load(path.read_text()) for path in DEPLOY.glob("*.yaml")}
    generated = {f"{m['metadata']['name']}.yaml": m for m in crd_manifests()}
    assert shipped == generated, "deploy/crds is stale: run `make crds`"
