"""Named users of the local control plane: who exists, with which groups, and their tokens.

The API server reads these from a static token file at start. The defaults are the people of the
walkthroughs in `shared/seeds/` plus two neutral test users; callers may add their own.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Mapping

ADMIN_USER = "kubetenancy-admin"
ADMIN_GROUPS = ("system:masters", "cluster-admins")

DEFAULT_USERS: Mapping[str, tuple[str, ...]] = {
    "falcon@nordmart.com": (),
    "bear@nordmart.com": (),
    "test-benzema-mto": ("iam-devteam",),
    "sso-devteam:random-user-stakater.com": ("sso-devteam",),
    "dev": (),
    "dba": (),
    "alice": (),
    "bob": (),
}


def new_tokens(users: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """A fresh random bearer token for every user."""
    return {user: secrets.token_urlsafe(32) for user in users}


def token_file(users: Mapping[str, tuple[str, ...]], tokens: Mapping[str, str]) -> str:
    """The API server's `--token-auth-file`: `token,user,uid,"group1,group2"` per line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for user, groups in users.items():
        row = [tokens[user], user, user]
        if groups:
            row.append(",".join(groups))
        writer.writerow(row)
    return out.getvalue()
