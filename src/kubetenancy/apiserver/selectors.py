"""Label and field selectors as the API server reads them from `?labelSelector=` and `?fieldSelector=`.

Watches served from the shared informer filter objects here, as the API server would have. Pure.
Label selectors: `key`, `!key`, `key=value`, `key==value`, `key!=value`, `key in (a,b)`,
`key notin (a,b)`, joined by commas. Field selectors: `path=value`, `path==value`, `path!=value`,
where the path names a string field of the object (`metadata.name`, `status.phase`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Object = Mapping[str, Any]
Predicate = Callable[[Object], bool]
_SET = re.compile(r"^(?P<key>[^\s!=()]+)\s+(?P<op>in|notin)\s+\((?P<values>[^()]*)\)$")
_EQUALITY = re.compile(r"^(?P<key>[^\s!=()]+)\s*(?P<op>==|=|!=)\s*(?P<value>[^\s!=()]*)$")
_KEY = re.compile(r"^(?P<negated>!?)\s*(?P<key>[^\s!=()]+)$")


class SelectorError(ValueError):
    """The selector cannot be read; its message says which part and why, as the API server does."""


def _requirements(selector: str) -> list[str]:
    """Split at the commas that are not inside a parenthesised value set."""
    parts, depth, current = [], 0, ""
    for char in selector:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return [part for part in parts if part]


def _label_requirement(text: str) -> Callable[[Mapping[str, str]], bool]:
    if found := _SET.match(text):
        key, values = found["key"], {v.strip() for v in found["values"].split(",") if v.strip()}
        if found["op"] == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if found := _EQUALITY.match(text):
        key, value = found["key"], found["value"]
        if found["op"] == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    if found := _KEY.match(text):
        key = found["key"]
        if found["negated"]:
            return lambda labels: key not in labels
        return lambda labels: key in labels
    raise SelectorError(f'unable to parse requirement: found "{text}", expected: key, !key, key=value, key!=value, '
                        "key in (values) or key notin (values)")  # fmt: skip


def label_selector(selector: str) -> Predicate:
    checks = [_label_requirement(part) for part in _requirements(selector)]
    return lambda obj: all(check((obj.get("metadata") or {}).get("labels") or {}) for check in checks)


def _field(obj: Object, path: str) -> str:
    value: Any = obj
    for step in path.split("."):
        value = value.get(step) if isinstance(value, Mapping) else None
    return "" if value is None else str(value)


def _field_requirement(text: str) -> Predicate:
    found = _EQUALITY.match(text)
    if found is None:
        raise SelectorError(f'invalid selector: "{text}"; the field selector must be path=value or path!=value')
    path, value, negated = found["key"], found["value"], found["op"] == "!="
    return lambda obj: (_field(obj, path) == value) != negated


def field_selector(selector: str) -> Predicate:
    checks = [_field_requirement(part) for part in _requirements(selector)]
    return lambda obj: all(check(obj) for check in checks)


def selected(params: Mapping[str, str]) -> Predicate:
    """What the request's `labelSelector` and `fieldSelector` select (everything without them)."""
    checks = [label_selector(params["labelSelector"])] if params.get("labelSelector") else []
    checks += [field_selector(params["fieldSelector"])] if params.get("fieldSelector") else []
    return lambda obj: all(check(obj) for check in checks)
