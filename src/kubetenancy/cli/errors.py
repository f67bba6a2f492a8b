"""How `kubetenancy` and `kubectl tenancy` end on an error a user can fix: one line saying what went wrong
and what to do, as kubectl does. The traceback is for `--debug` (or KUBETENANCY_DEBUG=1) only.

Only errors of the world outside (the API server's answers, an unreachable server, a kubeconfig or AWS
credentials that cannot be had, a missing file) are explained here. Anything else is a bug and keeps its
traceback. This module must not swallow errors: every one still ends the command with exit status 1.
"""

from __future__ import annotations

import os

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from kubetenancy.k8s import CONFIG_ERRORS, ApiError, explain
from kubetenancy.k8s.client import RETRYABLE_ERRORS

DEBUG_FLAG = "--debug"
DEBUG_ENV = "KUBETENANCY_DEBUG"
HINT = f"(run with {DEBUG_FLAG} for the traceback)"


def debugging(argv: list[str]) -> bool:
    """`--debug` anywhere before a `--`, or KUBETENANCY_DEBUG set to anything but "" or "0"."""
    options = argv[: argv.index("--")] if "--" in argv else argv
    return DEBUG_FLAG in options or os.environ.get(DEBUG_ENV, "") not in ("", "0")


def without_debug_flag(argv: list[str]) -> list[str]:
    """The arguments for the command itself: `--debug` may be given after any subcommand."""
    end = argv.index("--") if "--" in argv else len(argv)
    return [arg for arg in argv[:end] if arg != DEBUG_FLAG] + argv[end:]


def one_line(error: BaseException) -> str | None:
    """The line to print for an expected error; None for anything else (a bug: show the traceback)."""
    if isinstance(error, ApiError):
        return f"Error from server ({error.status.reason}): {error.status.message}"
    if isinstance(error, NoCredentialsError):
        return (
            "error: no AWS credentials found: sign in first (`aws sso login --profile NAME` then "
            "`export AWS_PROFILE=NAME`, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
        )
    if isinstance(error, NoRegionError):
        return "error: no AWS region configured: set AWS_REGION (or `region` in your AWS profile)"
    if isinstance(error, BotoCoreError | ClientError):
        return f"error: AWS: {error}"
    if isinstance(error, RETRYABLE_ERRORS):
        return f"error: {explain(error)}: is the cluster running, and is the kubeconfig's server right?"
    if isinstance(error, CONFIG_ERRORS):
        return f"error: no usable kubeconfig: {error}: pass --kubeconfig PATH or set KUBECONFIG"
    if isinstance(error, FileNotFoundError | PermissionError):
        return f"error: {error.filename or error}: {error.strerror or error}"
    return None
