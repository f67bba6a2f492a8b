"""Which kinds the API server serves, and whether each is namespaced: templates name arbitrary kinds.

Built-in kinds are known to the client already; a custom kind is looked up in the cluster's CRDs (once,
then cached) and taught to the client so the rest of `kubetenancy.k8s` can read and write it.
"""

from __future__ import annotations

from lightkube.core.resource import NamespacedResource

from kubetenancy.k8s.client import Kube, register_custom_resource, resource_class

CRD_API = "apiextensions.k8s.io/v1"


class KindScopes:
    """Answers "is this kind namespaced?" with as few CRD listings as possible."""

    def __init__(self, kube: Kube) -> None:
        self._kube = kube
        self._known: dict[tuple[str, str], bool] = {}

    async def namespaced(self, api_version: str, kind: str) -> bool | None:
        """True or False for a served kind; None when the API server serves no such kind."""
        key = (api_version, kind)
        if key not in self._known:
            scope = self._registered(api_version, kind)
            if scope is None:
                await self._learn_custom_kinds()
                scope = self._registered(api_version, kind)
            if scope is None:
                return None
            self._known[key] = scope
        return self._known[key]

    @staticmethod
    def _registered(api_version: str, kind: str) -> bool | None:
        try:
            return issubclass(resource_class(api_version, kind), NamespacedResource)
        except KeyError:
            return None

    async def _learn_custom_kinds(self) -> None:
        for crd in await self._kube.list(CRD_API, "CustomResourceDefinition"):
            spec = crd["spec"]
            for version in spec["versions"]:
                if version.get("served"):
                    register_custom_resource(
                        spec["group"],
                        version["name"],
                        spec["names"]["kind"],
                        spec["names"]["plural"],
                        namespaced=spec["scope"] == "Namespaced",
                    )
