"""The content of ConfigMaps and Secrets that RoleRequests and ClusterProfiles reference (pure).

Each data key holds one or more YAML documents separated by `---`. Secrets must have Sveltos' type
`addons.projectsveltos.io/cluster-profile` (so that ordinary Secrets never get deployed by mistake) and
their values are base64, as the API server returns them.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

import yaml

SECRET_TYPE = "addons.projectsveltos.io/cluster-profile"


class UnusableReference(ValueError):
    """A referenced ConfigMap or Secret is missing or unusable; the message names it and says how to fix it."""


def describe(kind: str, namespace: str, name: str) -> str:
    return f'{kind} "{name}" in namespace "{namespace}"'


def data_of(kind: str, namespace: str, name: str, obj: Mapping[str, Any] | None) -> dict[str, str]:
    """The text data of a referenced ConfigMap or Secret, in key order."""
    where = describe(kind, namespace, name)
    if obj is None:
        raise UnusableReference(f"{where} not found: create it, or fix the reference")
    if kind == "ConfigMap":
        return dict(sorted((obj.get("data") or {}).items()))
    if obj.get("type") != SECRET_TYPE:
        raise UnusableReference(f'{where} has type "{obj.get("type", "Opaque")}": give it type {SECRET_TYPE}')
    try:
        return {key: base64.b64decode(value).decode() for key, value in sorted((obj.get("data") or {}).items())}
    except (binascii.Error, UnicodeDecodeError) as error:
        raise UnusableReference(f"{where} holds data that is not text: {error}") from None


def documents(data: Mapping[str, str], where: str) -> list[dict[str, Any]]:
    """Every YAML document in `data`, in key order; empty documents are skipped."""
    found = []
    for key, text in data.items():
        try:
            loaded = [doc for doc in yaml.safe_load_all(text) if doc is not None]
        except yaml.YAMLError as error:
            raise UnusableReference(f"{where} key {key} is not valid YAML: {error}") from None
        for doc in loaded:
            if not isinstance(doc, dict) or not doc.get("apiVersion") or not doc.get("kind"):
                raise UnusableReference(f"{where} key {key} holds a document without apiVersion and kind")
            if not (doc.get("metadata") or {}).get("name"):
                raise UnusableReference(f"{where} key {key} holds a {doc['kind']} without metadata.name")
            found.append(doc)
    return found
