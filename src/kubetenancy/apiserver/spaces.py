"""Spaces: namespaces shown per caller, and created by account users for their own accounts.

Creating a Space checks what Kiosk checks — the caller is a subject of the account (or may create
namespaces anyway), the account is below its space limit — then creates the namespace labelled for the
account with its space metadata, and answers once the account's users have access: the operator binds
their role only after the account's mandatory templates are deployed in it. Deleting and relabelling
a Space need the caller's own right to delete or update that namespace.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from kubetenancy.apiserver import objects
from kubetenancy.apiserver.access import AccessReviews
from kubetenancy.apiserver.informer import Informer
from kubetenancy.apiserver.membership import Membership
from kubetenancy.apiserver.objects import SPACES, cannot, forbidden, status
from kubetenancy.apiserver.views import ApiStatusError, FilteredView
from kubetenancy.apiserver.visibility import Caller, sees_namespace, sees_tenant
from kubetenancy.desired.tenant import role_bindings
from kubetenancy.frontdoors.claims import CLAIM_LABELS
from kubetenancy.frontdoors.kiosk import ACCOUNT_LABEL, space_from_cr
from kubetenancy.frontdoors.table import KIOSK_ACCOUNT, KIOSK_INSTANCE
from kubetenancy.k8s.passthrough import Passthrough
from kubetenancy.model import INITIALIZING, TENANT_LABEL, ClusterPolicy, Tenant, TenantNamespace
from kubetenancy.names import DNS_LABEL_MAX, dns_label_problems

Object = dict[str, Any]
NAMESPACES = "/api/v1/namespaces"
ACCOUNTS = KIOSK_ACCOUNT.served.path()
ACCESS_SECONDS = 30.0
WRITE_PARAMS = ("dryRun", "fieldManager")
GENERATED_PREFIX_MAX = DNS_LABEL_MAX - 5
"""The API server keeps this much of a generateName and adds 5 random characters."""


class Spaces(FilteredView):
    def __init__(self, api: Passthrough, access: AccessReviews, membership: Membership) -> None:
        super().__init__(SPACES, Informer(api, NAMESPACES), ("", "namespaces"), api, access, membership)
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    def visible(self, caller: Caller, obj: Object) -> bool:
        metadata = obj["metadata"]
        return sees_namespace(caller, metadata["name"], metadata.get("labels") or {}, self.membership.tenants)

    def show(self, obj: Object) -> Object:
        return objects.space(obj)

    # -- create ---------------------------------------------------------------------------------

    async def create(self, caller: Caller, body: Object, params: Mapping[str, str]) -> Object:
        try:
            metadata, named_account = space_from_cr(body)
        except ValueError as error:
            raise ApiStatusError(status(400, "BadRequest", f"the Space is not valid: {error}")) from None
        name = str(metadata.get("name") or metadata.get("generateName") or "")
        if not name:
            message = (
                'Space.tenancy.kiosk.sh "" is invalid: metadata.name: Required value: name or generateName is required'
            )
            raise ApiStatusError(status(422, "Invalid", message))
        _check_name(metadata)
        account = await self._account_of(caller, named_account, name)
        passed = {k: v for k, v in params.items() if k in WRITE_PARAMS}
        if account is None:
            return self.show(await self._create_namespace(metadata, {}, {}, passed))
        async with self._locks[account.name]:
            await self._check_limit(account, name)
            labels = {**account.common_labels, ACCOUNT_LABEL: account.name, TENANT_LABEL: account.name}
            annotations = {**account.common_annotations, **({INITIALIZING: "true"} if account.templates else {})}
            created = await self._create_namespace(metadata, labels, annotations, passed)
        if "dryRun" not in passed:
            await self._wait_for_access(account, created["metadata"]["name"])
        return self.show(created)

    async def _account_of(self, caller: Caller, named: str | None, space: str) -> Tenant | None:
        """The account the Space is for (None: an ownerless space, which only namespace creators make)."""
        may_create_namespaces = await self.access.allowed(caller, "create", "", "namespaces")
        if not named:
            mine = [a for a in self.membership.accounts.values() if sees_tenant(caller, a)]
            if len(mine) == 1:
                named = mine[0].name
            elif may_create_namespaces:
                return None
            else:
                raise ApiStatusError(status(400, "BadRequest", "spec.account is required"))
        code, found = await self.api.request("GET", f"{ACCOUNTS}/{named}")
        if code != 200:
            raise ApiStatusError(found)
        account = KIOSK_ACCOUNT.read(found)
        if not sees_tenant(caller, account) and not may_create_namespaces:
            raise ApiStatusError(forbidden("space", space, cannot(caller.user, "create", SPACES)))
        return account

    async def _check_limit(self, account: Tenant, space: str) -> None:
        if account.namespace_limit is None:
            return
        owned = await self._upstream_list({"labelSelector": f"{ACCOUNT_LABEL}={account.name}"})
        if len(owned.get("items") or []) >= account.namespace_limit:
            why = f"space limit of {account.namespace_limit} reached for account {account.name}"
            raise ApiStatusError(forbidden("spaces", space, why))

    async def _create_namespace(
        self, metadata: Object, labels: Mapping[str, str], annotations: Mapping[str, str], params: Mapping[str, str]
    ) -> Object:
        wanted = {key: metadata[key] for key in ("name", "generateName") if metadata.get(key)} | {
            "labels": {**(metadata.get("labels") or {}), **labels},
            "annotations": {**(metadata.get("annotations") or {}), **annotations},
        }
        namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": wanted}
        code, created = await self.api.request("POST", NAMESPACES, params=params, body=namespace)
        if code == 409 and created.get("reason") == "AlreadyExists":
            name = str(wanted.get("name", ""))
            message = f'spaces.tenancy.kiosk.sh "{name}" already exists'
            raise ApiStatusError(status(409, "AlreadyExists", message, name=name, kind="spaces"))
        if code != 201:
            raise ApiStatusError(created)
        return created

    async def _wait_for_access(self, account: Tenant, namespace: str) -> None:
        """Until the account's role bindings exist; a failed mandatory template fails the Space."""
        expected = role_bindings(account, TenantNamespace(namespace), ClusterPolicy(), None)
        bindings = [f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/rolebindings/{rb['metadata']['name']}"
                    for rb in expected]  # fmt: skip
        deadline = time.monotonic() + ACCESS_SECONDS
        while time.monotonic() < deadline:
            for template in account.templates:
                code, instance = await self.api.request(
                    "GET", f"{KIOSK_INSTANCE.served.path(namespace)}/{template.name}"
                )
                state = (instance.get("status") or {}) if code == 200 else {}
                if state.get("status") == "Failed":
                    await self.api.request("DELETE", f"{NAMESPACES}/{namespace}")
                    message = (
                        f"TemplateInstance '{template.name}' failed with {state.get('reason')}: "
                        f"{state.get('message')} (the new space {namespace} was removed again)"
                    )
                    raise ApiStatusError(status(500, "InternalError", message, name=namespace, kind="spaces"))
            if all([(await self.api.request("GET", path))[0] == 200 for path in bindings]):
                return
            await asyncio.sleep(0.2)
        message = (
            f'spaces.tenancy.kiosk.sh "{namespace}" was created, but its users have no access yet: the '
            f"kubetenancy operator has not bound their role within {ACCESS_SECONDS:.0f}s (is it running?)"
        )
        raise ApiStatusError(status(504, "Timeout", message, name=namespace, kind="spaces"))

    # -- change and delete ----------------------------------------------------------------------

    async def _may(self, caller: Caller, verb: str, name: str) -> Object:
        raw = await self.get_raw(caller, name)
        if not await self.access.allowed(caller, verb, "", "namespaces", name=name):
            raise ApiStatusError(forbidden("space", name, cannot(caller.user, verb, SPACES)))
        return raw

    async def delete(self, caller: Caller, name: str, params: Mapping[str, str]) -> Object:
        await self._may(caller, "delete", name)
        passed = {k: v for k, v in params.items() if k in ("dryRun", "propagationPolicy", "gracePeriodSeconds")}
        code, deleted = await self.api.request("DELETE", f"{NAMESPACES}/{name}", params=passed)
        if code not in (200, 202):
            raise ApiStatusError(deleted)
        return self.show(deleted)

    async def update(self, caller: Caller, name: str, body: Object, params: Mapping[str, str]) -> Object:
        raw = await self._may(caller, "update", name)
        return await self._relabel(raw, body, params)

    async def patch(self, caller: Caller, name: str, patch: Object, params: Mapping[str, str]) -> Object:
        raw = await self._may(caller, "update", name)
        return await self._relabel(raw, objects.merge_patch(self.show(raw), patch), params)

    async def _relabel(self, raw: Object, wanted: Object, params: Mapping[str, str]) -> Object:
        """A Space's labels and annotations are its namespace's; its account cannot change."""
        current = self.show(raw)
        name = current["metadata"]["name"]
        labels = dict((wanted.get("metadata") or {}).get("labels") or {})
        annotations = dict((wanted.get("metadata") or {}).get("annotations") or {})
        old_labels = current["metadata"].get("labels") or {}
        moved = [key for key in CLAIM_LABELS if labels.get(key) != old_labels.get(key)]
        if moved or (wanted.get("spec") or {}).get("account") != current["spec"].get("account"):
            field = f"metadata.labels[{moved[0]}]" if moved else "spec.account"
            message = f'Space.tenancy.kiosk.sh "{name}" is invalid: {field}: Invalid value: a space keeps its account'
            raise ApiStatusError(status(422, "Invalid", message, name=name, kind="spaces"))
        old_annotations = current["metadata"].get("annotations") or {}
        patch = {
            "metadata": {
                "labels": _replacing(old_labels, labels),
                "annotations": _replacing(old_annotations, annotations),
            }
        }
        passed = {k: v for k, v in params.items() if k in WRITE_PARAMS}
        code, patched = await self.api.request(
            "PATCH", f"{NAMESPACES}/{name}", params=passed, body=patch, content_type="application/merge-patch+json"
        )
        if code != 200:
            raise ApiStatusError(patched)
        return self.show(patched)


def _check_name(metadata: Object) -> None:
    """Syntax first, before membership and limits: a Space is refused for its name as a Space."""
    field, name = ("name", str(metadata["name"])) if metadata.get("name") else ("generateName", "")
    if field == "generateName":
        # As the API server checks a prefix: the random suffix follows, so a trailing "-" is fine.
        name = str(metadata["generateName"])[:GENERATED_PREFIX_MAX]
        name = name[:-1] + "a" if name.endswith("-") else name
    problems = dns_label_problems(name)
    if problems:
        written = metadata.get(field)
        message = f'Space.tenancy.kiosk.sh "{written}" is invalid: metadata.{field}: Invalid value: "{written}": '
        raise ApiStatusError(status(422, "Invalid", message + "; ".join(problems), name=str(written), kind="spaces"))


def _replacing(old: Mapping[str, str], new: Mapping[str, str]) -> dict[str, str | None]:
    """A merge patch turning map `old` into `new`."""
    return {**{key: None for key in old if key not in new}, **new}
