"""Entry point of `kubetenancy` and of the kubectl plugin `kubectl-tenancy` (run as `kubectl tenancy`).

Help names the command as it was run (`kubectl tenancy …` for the plugin) and shows option values by
name (`--cluster CLUSTER`), not by Python type; expected errors end in one line (see `errors`).
"""

from __future__ import annotations

import sys
from importlib.metadata import version
from pathlib import Path
from typing import Annotated, Any

import typer

from kubetenancy.cli import (
    apiserver,
    aws,
    console,
    dev,
    errors,
    login,
    manifests,
    operator,
    register,
    show,
    showback,
    tenant,
)

PLUGIN = "kubectl-tenancy"

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
app.add_typer(tenant.app, name="tenant")
app.add_typer(register.app, name="register")
app.command("showback")(showback.showback)


@app.callback()
def options(
    debug: Annotated[
        bool, typer.Option(errors.DEBUG_FLAG, help=f"On an error, show its traceback (or set {errors.DEBUG_ENV}=1).")
    ] = False,
) -> None:
    """kubetenancy: multi-tenancy for Kubernetes clusters."""


@app.command("version")
def show_version() -> None:
    """Print kubetenancy's version."""
    typer.echo(version("kubetenancy"))


def prog_name(argv0: str) -> str:
    """`kubectl tenancy` when kubectl runs the plugin (or it is run by that name), else `kubetenancy`."""
    return "kubectl tenancy" if Path(argv0).name == PLUGIN else "kubetenancy"


def _name_values(command: Any) -> None:
    """`--cluster CLUSTER` and `TENANT` instead of `<str>`; flags (and --help) show no value at all."""
    help_option = command.get_help_option(command.context_class(command))
    for param in [*command.params, *([help_option] if help_option else [])]:
        if param.metavar is None:
            flag = getattr(param, "is_flag", False)
            param.metavar = "" if flag else param.name.upper()
        if getattr(param, "param_type_name", "") == "argument":
            # Typer shows an argument's Python type (`<str>`) beside its name; the name and help say enough.
            param.display_type_rich = lambda ctx: None
    for sub in getattr(command, "commands", {}).values():
        _name_values(sub)


def main() -> None:
    argv = sys.argv[1:]
    command = typer.main.get_command(app)
    _name_values(command)
    try:
        command.main(args=errors.without_debug_flag(argv), prog_name=prog_name(sys.argv[0]))
    except Exception as error:
        line = errors.one_line(error)
        if line is None or errors.debugging(argv):
            raise
        print(f"{line} {errors.HINT}", file=sys.stderr)
        sys.exit(1)
