"""Entry point of `kubetenancy` and of the kubectl plugin `kubectl-tenancy`."""

from __future__ import annotations

from importlib.metadata import version

import typer

from kubetenancy.cli import apiserver, aws, console, dev, login, manifests, operator, show

app = typer.Typer(no_args_is_help=True, help="kubetenancy: multi-tenancy for Kubernetes clusters.")
app.add_typer(dev.app, name="dev")
app.add_typer(operator.app, name="operator")
app.add_typer(apiserver.app, name="apiserver")
app.add_typer(manifests.app, name="manifests")
app.add_typer(aws.app, name="aws")
app.add_typer(show.app, name="show")
app.add_typer(console.app, name="console")
app.command("login")(login.login)
app.command("oidc-token", hidden=True)(login.oidc_token)


@app.command("version")
def show_version() -> None:
    """Print kubetenancy's version."""
    typer.echo(version("kubetenancy"))


def main() -> None:
    app()
