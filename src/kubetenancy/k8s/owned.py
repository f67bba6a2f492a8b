"""Create an object only if nobody else has one of that name, and update it only while it is the one we made.

`create_owned` is an atomic create (never adopts an existing object) whose fields then belong to
kubetenancy's server-side apply, so later applies that drop a field remove it. `apply_owned` applies with
the object's uid as a precondition: an object deleted and made again by someone else is never taken over.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lightkube.types import PatchType

from kubetenancy.k8s.client import (
    API_REQUESTS,
    FIELD_MANAGER,
    ApiError,
    Kube,
    Object,
    _retrying,
    _to_dict,
    resource_class,
)


async def create_owned(kube: Kube, obj: Mapping[str, Any]) -> Object | None:
    """Create `obj`; None when an object of that name exists already (it is left untouched)."""
    try:
        created = await kube.create(obj)
    except ApiError as error:
        if error.status.code == 409:
            return None
        raise
    # A create records its fields under an "Update" entry, which later applies would never remove:
    # turn that entry into kubetenancy's "Apply" entry (the uid test makes this touch only what we made).
    metadata = created["metadata"]
    entries = metadata.get("managedFields") or []
    index = next(
        (i for i, e in enumerate(entries) if e.get("manager") == FIELD_MANAGER and e.get("operation") == "Update"),
        None,
    )
    if index is None:
        return created
    patch = [
        {"op": "test", "path": "/metadata/uid", "value": metadata["uid"]},
        {"op": "replace", "path": f"/metadata/managedFields/{index}/operation", "value": "Apply"},
    ]
    resource = resource_class(obj["apiVersion"], obj["kind"])
    API_REQUESTS.labels("patch").inc()
    patched = await _retrying(
        lambda: kube.client.patch(
            resource, metadata["name"], patch, namespace=metadata.get("namespace"), patch_type=PatchType.JSON
        ),
        kube._in_flight,
    )
    return _to_dict(patched)


async def apply_owned(kube: Kube, obj: Mapping[str, Any], uid: str) -> Object:
    """Server-side apply `obj` to the live object with `uid` (a 409 if that object is gone or replaced)."""
    return await kube.apply({**obj, "metadata": {**obj["metadata"], "uid": uid}})
