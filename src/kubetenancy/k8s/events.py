"""Post core/v1 Events on any object, where `kubectl describe` and `kubectl get events` show them.

An Event's name is derived from the object and the message, so the same news posted twice (an operator
restart) is one Event. Events are the only thing written about objects kubetenancy does not own: never
their status.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Mapping
from typing import Any, Literal

from kubetenancy.k8s.client import ApiError, Kube

COMPONENT = "kubetenancy"


def event_for(
    involved: Mapping[str, Any], type_: Literal["Normal", "Warning"], reason: str, message: str, now: datetime.datetime
) -> dict[str, Any]:
    meta = involved["metadata"]
    digest = hashlib.sha256(f"{meta.get('uid', '')}/{reason}/{message}".encode()).hexdigest()[:12]
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{meta['name']}.{digest}", "namespace": meta.get("namespace") or "default"},
        "involvedObject": {
            "apiVersion": involved["apiVersion"],
            "kind": involved["kind"],
            "name": meta["name"],
            "namespace": meta.get("namespace") or "",
            "uid": meta.get("uid", ""),
        },
        "type": type_,
        "reason": reason,
        "message": message,
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "reportingInstance": COMPONENT,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }


async def post_event(
    kube: Kube, involved: Mapping[str, Any], type_: Literal["Normal", "Warning"], reason: str, message: str
) -> None:
    """Create the Event unless the same one exists already."""
    try:
        await kube.create(event_for(involved, type_, reason, message, datetime.datetime.now(datetime.UTC)))
    except ApiError as error:
        if error.status.code != 409:
            raise
