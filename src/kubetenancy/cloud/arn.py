"""AWS ARNs as aws-auth compares them. Pure.

An assumed-role session `arn:aws:sts::<acct>:assumed-role/<role>/<session>` is compared with role
mappings as `arn:aws:iam::<acct>:role/<role>`, and a role ARN with a path (SSO roles live under
`role/aws-reserved/sso.amazonaws.com/<region>/`) as the same ARN without its path, as EKS does.
"""

from __future__ import annotations

from dataclasses import dataclass


class ArnError(ValueError):
    pass


@dataclass(frozen=True)
class Caller:
    """Who STS says signed a token."""

    arn: str
    account: str
    access_key_id: str = ""
    user_id: str = ""

    @property
    def canonical_arn(self) -> str:
        return canonical(self.arn)

    @property
    def session_name(self) -> str:
        _, service, resource = _parts(self.arn)
        if service == "sts" and resource.startswith("assumed-role/"):
            return resource.split("/", 2)[2]
        return ""


def _parts(arn: str) -> tuple[str, str, str]:
    pieces = arn.split(":", 5)
    if len(pieces) != 6 or pieces[0] != "arn":
        raise ArnError(f'"{arn}" is not an ARN (expected arn:<partition>:<service>::<account>:<resource>)')
    return pieces[1], pieces[2], pieces[5]


def account_of(arn: str) -> str:
    return arn.split(":", 5)[4] if arn.count(":") >= 5 else ""


def canonical(arn: str) -> str:
    """The form aws-auth entries are matched in."""
    partition, service, resource = _parts(arn)
    account = account_of(arn)
    if service == "sts" and resource.startswith("assumed-role/"):
        role = resource.split("/")[1]
        return f"arn:{partition}:iam::{account}:role/{role}"
    if service == "iam" and resource.startswith("role/"):
        return f"arn:{partition}:iam::{account}:role/{resource.rsplit('/', 1)[-1]}"
    return arn
