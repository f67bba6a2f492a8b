"""The `aws-auth` ConfigMap of `kube-system`: read mappings, find a caller's identity, add and remove
entries. Pure.

Editing works on the text of `mapUsers`/`mapRoles` and touches only the lines of the entry concerned, so
every other line (node role mappings, comments, indentation) stays byte for byte. Malformed YAML is
refused, never rewritten.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from kubetenancy.cloud.arn import ArnError, Caller, canonical

Kind = Literal["user", "role"]
KEYS: dict[Kind, tuple[str, str]] = {"user": ("mapUsers", "userarn"), "role": ("mapRoles", "rolearn")}


class AwsAuthError(ValueError):
    """aws-auth cannot be read or changed; the message names the key and how to fix it."""


@dataclass(frozen=True)
class IdentityMapping:
    kind: Kind
    arn: str
    username: str
    groups: tuple[str, ...]


def kind_of(arn: str) -> Kind:
    return "role" if ":role/" in arn else "user"


def _entries(data: Mapping[str, str], kind: Kind) -> list[dict[str, Any]]:
    key, arn_key = KEYS[kind]
    text = data.get(key, "")
    try:
        entries = yaml.safe_load(text) if text.strip() else []
    except yaml.YAMLError as error:
        raise AwsAuthError(
            f"configmap kube-system/aws-auth: data.{key} is not valid YAML ({error}); fix it by hand, kubetenancy "
            "will not rewrite it"
        ) from None
    if not isinstance(entries, list) or not all(isinstance(e, dict) and arn_key in e for e in entries):
        raise AwsAuthError(
            f"configmap kube-system/aws-auth: data.{key} must be a list of entries with {arn_key}, username and "
            "groups; fix it by hand, kubetenancy will not rewrite it"
        )
    return entries


def mappings(data: Mapping[str, str]) -> list[IdentityMapping]:
    result = []
    for kind in ("role", "user"):
        _, arn_key = KEYS[kind]
        for entry in _entries(data, kind):
            groups = tuple(str(g) for g in entry.get("groups") or ())
            result.append(IdentityMapping(kind, str(entry[arn_key]), str(entry.get("username", "")), groups))
    return result


def _render(template: str, caller: Caller) -> str:
    session = caller.session_name
    return (
        template.replace("{{AccountID}}", caller.account)
        .replace("{{SessionNameRaw}}", session)
        .replace("{{SessionName}}", session.replace("@", "-"))
        .replace("{{AccessKeyID}}", caller.access_key_id)
    )


def identity_for(data: Mapping[str, str], caller: Caller) -> tuple[str, tuple[str, ...]] | None:
    """(username, groups) of the first mapping of the caller's ARN; None when it is not mapped."""
    for mapping in mappings(data):
        mapped = canonical(mapping.arn) if mapping.kind == "role" else mapping.arn
        target = caller.canonical_arn if mapping.kind == "role" else caller.arn
        if mapped == target and mapping.username:
            return _render(mapping.username, caller), tuple(_render(g, caller) for g in mapping.groups)
    return None


def _chunks(text: str) -> tuple[list[str], list[list[str]], str]:
    """(lines before the first entry, each entry's lines, the indentation of entries)."""
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if re.match(r"^\s*- ", line)]
    if not starts:
        return lines, [], ""
    indent = min(len(lines[i]) - len(lines[i].lstrip()) for i in starts)
    starts = [i for i in starts if len(lines[i]) - len(lines[i].lstrip()) == indent]
    chunks = [lines[a:b] for a, b in zip(starts, [*starts[1:], len(lines)], strict=True)]
    return lines[: starts[0]], chunks, " " * indent


def add_mapping(data: Mapping[str, str], mapping: IdentityMapping, *, no_duplicate_arns: bool) -> dict[str, str]:
    """`data` with the mapping appended to mapUsers or mapRoles; other keys and lines untouched."""
    key, arn_key = KEYS[mapping.kind]
    try:
        canonical(mapping.arn)
    except ArnError as error:
        raise AwsAuthError(f"{error}; e.g. arn:aws:iam::111122223333:user/alice") from None
    existing = _entries(data, mapping.kind)
    if no_duplicate_arns and any(str(e[arn_key]) == mapping.arn for e in existing):
        raise AwsAuthError(
            f"aws-auth already maps {mapping.arn} in data.{key}; remove it first, or drop --no-duplicate-arns"
        )
    text = data.get(key, "")
    _, _, indent = _chunks(text)
    entry = [f"{indent}- {arn_key}: {mapping.arn}\n", f"{indent}  username: {mapping.username}\n"]
    if mapping.groups:
        entry += [f"{indent}  groups:\n"] + [f"{indent}  - {group}\n" for group in mapping.groups]
    if text and not text.endswith("\n"):
        text += "\n"
    return {**data, key: text + "".join(entry)}


def _trailing_comments(chunk: list[str]) -> list[str]:
    end = len(chunk)
    while end > 1 and (not chunk[end - 1].strip() or chunk[end - 1].lstrip().startswith("#")):
        end -= 1
    return chunk[end:]


def remove_mapping(data: Mapping[str, str], arn: str, *, remove_all: bool = False) -> dict[str, str]:
    """`data` without the (first, or every) entry mapping `arn`; other lines untouched."""
    kind = kind_of(arn)
    key, arn_key = KEYS[kind]
    _entries(data, kind)  # refuse malformed YAML before touching anything
    head, chunks, _ = _chunks(data.get(key, ""))
    kept, removed = [], 0
    for chunk in chunks:
        parsed = yaml.safe_load("".join(chunk))
        matches = isinstance(parsed, list) and parsed and str(parsed[0].get(arn_key)) == arn
        if matches and (remove_all or removed == 0):
            removed += 1
            kept.append(_trailing_comments(chunk))  # they may introduce the next entry
            continue
        kept.append(chunk)
    if not removed:
        raise AwsAuthError(f"aws-auth has no mapping for {arn} in data.{key}")
    return {**data, key: "".join(head) + "".join(line for chunk in kept for line in chunk)}
