"""Walk a CAPA identity chain against AWS for real: one fresh STS session per hop, as CAPA assumes them.

Starts from the chain's root credentials (the controller's own for a controller identity, the Secret's
key for a static one), asks STS who they are, then assumes each role from the root up with the previous
hop's credentials and the role's session name, external ID, session policy and duration. Nothing is
cached: each call is a new session. Reports each hop, or the exact AWS error at the hop that failed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from kubetenancy.cloud.identity_chain import Chain
from kubetenancy.model import CloudIdentity

DEFAULT_SESSION_NAME = "kubetenancy-check-identity"
"""Used when a role identity names no sessionName (CAPA's SDK would use `aws-go-sdk-<nanoseconds>`)."""


@dataclass(frozen=True)
class Hop:
    identity: str
    """Which identity this hop is, e.g. `AWSClusterRoleIdentity managed-account`."""
    caller: str
    """The ARN of the credentials this hop ends with."""
    account: str
    assumed: str = ""
    """The role ARN assumed at this hop ("" for the root credentials)."""


class HopFailed(RuntimeError):
    """AWS refused a hop; the message is AWS's own words and says which hop and as whom."""


def _who(session: boto3.Session, region: str) -> tuple[str, str]:
    identity = session.client("sts", region_name=region).get_caller_identity()
    return str(identity["Arn"]), str(identity["Account"])


def _assume(session: boto3.Session, role: CloudIdentity, region: str) -> boto3.Session:
    params: dict[str, Any] = {
        "RoleArn": role.role_arn,
        "RoleSessionName": role.session_name or DEFAULT_SESSION_NAME,
    }
    if role.external_id:
        params["ExternalId"] = role.external_id
    if role.inline_policy:
        params["Policy"] = role.inline_policy
    if role.duration_seconds:
        params["DurationSeconds"] = role.duration_seconds
    credentials = session.client("sts", region_name=region).assume_role(**params)["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def _aws_words(error: Exception) -> str:
    if isinstance(error, ClientError):
        detail = error.response.get("Error", {})
        return f"{detail.get('Code', 'Error')}: {detail.get('Message', str(error))}"
    return str(error)


def walk_with_sts(chain: Chain, root: boto3.Session, region: str) -> Iterator[Hop]:
    """Yield the root's caller, then each assumed role's; raise HopFailed at the first refusal."""
    base = next((hop for hop in chain.hops if not hop.role_arn), None)
    root_name = str(base.key) if base else "the controller's own credentials"
    session = root
    try:
        caller, account = _who(session, region)
    except (ClientError, BotoCoreError) as error:
        raise HopFailed(f"{root_name}: GetCallerIdentity failed: {_aws_words(error)}") from error
    yield Hop(root_name, caller, account)
    for role in reversed([hop for hop in chain.hops if hop.role_arn]):
        try:
            session = _assume(session, role, region)
            landed, account = _who(session, region)
        except (ClientError, BotoCoreError) as error:
            raise HopFailed(f"{role.key}: {caller} could not assume {role.role_arn}: {_aws_words(error)}") from error
        yield Hop(str(role.key), landed, account, role.role_arn)
        caller = landed
