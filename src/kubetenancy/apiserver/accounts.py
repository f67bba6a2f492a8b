"""`tenancy.kiosk.sh` Accounts: the `config.kiosk.sh` Accounts a caller belongs to.

Writes go to the config Account acting as the caller (impersonation), so the API server's own RBAC on
`accounts.config.kiosk.sh` decides who may create or change accounts — in practice, cluster admins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubetenancy.apiserver import objects
from kubetenancy.apiserver.access import AccessReviews
from kubetenancy.apiserver.membership import Membership
from kubetenancy.apiserver.objects import ACCOUNTS
from kubetenancy.apiserver.views import ApiStatusError, FilteredView
from kubetenancy.apiserver.visibility import Caller, sees_tenant
from kubetenancy.frontdoors.table import KIOSK_ACCOUNT
from kubetenancy.k8s import Identity
from kubetenancy.k8s.passthrough import Passthrough

Object = dict[str, Any]
CONFIG = KIOSK_ACCOUNT.served
PATH = CONFIG.path()
WRITE_PARAMS = ("dryRun", "fieldManager", "fieldValidation")


class Accounts(FilteredView):
    def __init__(self, api: Passthrough, access: AccessReviews, membership: Membership) -> None:
        """Shares the membership's informer of config Accounts."""
        informer = next(informer for informer in membership.informers if informer.path == PATH)
        super().__init__(ACCOUNTS, informer, (CONFIG.group, CONFIG.plural), api, access, membership)

    def visible(self, caller: Caller, obj: Object) -> bool:
        try:
            return sees_tenant(caller, KIOSK_ACCOUNT.read(obj))
        except ValueError:
            return False

    def show(self, obj: Object) -> Object:
        return objects.account(obj)

    async def _as_caller(
        self, caller: Caller, method: str, path: str, params: Mapping[str, str], body: Any = None, **kwargs: Any
    ) -> Object:
        passed = {k: v for k, v in params.items() if k in WRITE_PARAMS}
        identity = Identity(caller.user, caller.groups)
        code, answer = await self.api.request(method, path, params=passed, body=body, identity=identity, **kwargs)
        if code >= 300:
            raise ApiStatusError(answer)
        return self.show(answer)

    @staticmethod
    def _config(body: Object) -> Object:
        return {**body, "apiVersion": CONFIG.api_version, "kind": CONFIG.kind}

    async def create(self, caller: Caller, body: Object, params: Mapping[str, str]) -> Object:
        return await self._as_caller(caller, "POST", PATH, params, self._config(body))

    async def update(self, caller: Caller, name: str, body: Object, params: Mapping[str, str]) -> Object:
        return await self._as_caller(caller, "PUT", f"{PATH}/{name}", params, self._config(body))

    async def patch(self, caller: Caller, name: str, patch: Object, params: Mapping[str, str]) -> Object:
        # Accounts have no merge keys, so a strategic merge patch says what a JSON merge patch says.
        changes = {k: v for k, v in objects.without_directives(patch).items() if k not in ("apiVersion", "kind")}
        return await self._as_caller(
            caller, "PATCH", f"{PATH}/{name}", params, changes, content_type="application/merge-patch+json"
        )

    async def delete(self, caller: Caller, name: str, params: Mapping[str, str]) -> Object:
        return await self._as_caller(caller, "DELETE", f"{PATH}/{name}", params)
