"""Kubernetes' rule for names that must be DNS labels (namespaces, hence tenant namespaces and Spaces),
with the API server's own wording, so a name is refused where it is written instead of failing later.

Pure; no I/O. It must not guess fixes or rewrite names: callers refuse, users choose.
"""

from __future__ import annotations

import re

DNS_LABEL_MAX = 63
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS_LABEL_RULE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
    "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


def dns_label_problems(name: str) -> list[str]:
    """What is wrong with `name` as a DNS label, in the API server's words (empty: nothing)."""
    problems = []
    if len(name) > DNS_LABEL_MAX:
        problems.append(f"must be no more than {DNS_LABEL_MAX} characters")
    if not DNS_LABEL.fullmatch(name):
        problems.append(DNS_LABEL_RULE)
    return problems
