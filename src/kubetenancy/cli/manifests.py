"""`kubetenancy manifests …`: print what kubetenancy installs, for GitOps and for `deploy/`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml

from kubetenancy.api import crd_manifests

app = typer.Typer(no_args_is_help=True, help="Print or write the manifests kubetenancy installs.")


@app.command()
def crds(
    out: Annotated[Path | None, typer.Option(help="Write one file per CRD into this folder.")] = None,
) -> None:
    """The CustomResourceDefinitions, generated from the typed API models."""
    manifests = crd_manifests()
    if out is None:
        typer.echo(yaml.safe_dump_all(manifests, sort_keys=False), nl=False)
        return
    out.mkdir(parents=True, exist_ok=True)
    for manifest in manifests:
        (out / f"{manifest['metadata']['name']}.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
