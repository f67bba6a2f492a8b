"""`kubetenancy dev images …`: the images the local nodes can run, all served by the plane's registry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from kubetenancy.cli.progress import console
from kubetenancy.localcluster import images, registry, versions
from kubetenancy.localcluster.controlplane import ControlPlane

app = typer.Typer(no_args_is_help=True, help="Images for the local nodes (served by the plane's local registry).")


def _registry_url() -> str:
    plane = ControlPlane.load(versions.state_dir())
    running = plane is not None and any(p.name == registry.REGISTRY and p.alive() for p in plane.processes)
    if plane is None or not running:
        console.print("[red]error:[/] no local registry is running: start the plane with `kubetenancy dev up`")
        raise typer.Exit(1)
    return plane.registry_url


@app.command()
def build() -> None:
    """Build (first time only) the project's images and, if the plane runs, push them to its registry."""
    plane = ControlPlane.load(versions.state_dir())
    url = plane.registry_url if plane is not None and plane.registry_port and plane.running() else None
    for recipe in images.all_images():
        layout = images.ensure(recipe)
        for reference in recipe.references:
            if url is not None:
                registry.push_layout(url, layout, reference)
            typer.echo(f"{reference}  {images.describe(recipe)['digest']}")


@app.command("list")
def list_images() -> None:
    """The images the nodes can pull (every repository and tag of the local registry)."""
    table = Table("IMAGE", "TAGS")
    for repository, tags in registry.catalog(_registry_url()).items():
        table.add_row(repository, ", ".join(tags))
    console.print(table)


@app.command()
def load(
    archive: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="An OCI or `docker save` archive.")],
) -> None:
    """Store an image archive in the local registry under the names it carries (pods then pull it by them)."""
    try:
        stored = registry.load_archive(_registry_url(), archive)
    except registry.ImageError as error:
        console.print(f"[red]error:[/] {error}", soft_wrap=True)
        raise typer.Exit(1) from None
    for name in stored:
        typer.echo(f"loaded {name}")
