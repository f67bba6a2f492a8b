"""Deploy one template instance into one namespace, remove it from one, and put back what drifted.

An object is created only if nothing of its name exists (an existing one is left untouched and reported),
updated only while it carries the instance's label, and deleted only if it carries that label: an object
the instance did not create is never adopted, changed or deleted. Rendering is `desired.templates`'s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubetenancy.desired.templates import (
    Kind,
    Object,
    RenderError,
    check_scopes,
    drifted,
    fingerprint,
    manifests_yaml,
    mapped_copy,
    mapping_refused,
    render,
)
from kubetenancy.k8s import ApiError, Kube
from kubetenancy.k8s.applier import Key, key
from kubetenancy.k8s.kinds import KindScopes
from kubetenancy.k8s.owned import apply_owned, create_owned
from kubetenancy.operator.template_status import MappedStates, Outcome
from kubetenancy.template_model import INSTANCE_LABEL, Instance, ObjectRef, Template

CONCURRENCY = 8
MAPPED_KINDS = (("Secret", "secrets"), ("ConfigMap", "config_maps"))
RETRIED_BY_CALLER = (409, 429)
"""Answers that mean "try again" rather than "this object is wrong"."""


@dataclass
class Deployment:
    outcome: Outcome
    kinds: set[Kind] = field(default_factory=set)
    sources: set[tuple[str, ObjectRef]] = field(default_factory=set)
    """(kind, source) of every Secret and ConfigMap it copies, found or not."""


def _who(instance: Instance) -> str:
    return f'{instance.kind} "{instance.name}"'


class Deployer:
    """Writes what `desired.templates` renders, and remembers it (per instance uid and namespace) so that
    drift can be put back without rendering again."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube
        self.scopes = KindScopes(kube)
        self.desired: dict[str, dict[str, dict[Key, Object]]] = {}

    def forget(self, uid: str, namespace: str | None = None) -> None:
        if namespace is None:
            self.desired.pop(uid, None)
        else:
            self.desired.get(uid, {}).pop(namespace, None)

    async def deploy(
        self,
        instance: Instance,
        template: Template,
        namespace: str,
        namespaces: Mapping[str, Mapping[str, str]],
        previous: Outcome | None,
        previous_kinds: set[Kind],
    ) -> Deployment:
        """Render, then apply unless the same objects were deployed already, then prune."""
        kept = previous or Outcome("Failed")  # what stays deployed if this pass fails
        try:
            objects = render(template, instance, namespace, namespaces[namespace])
            kinds = {(o["apiVersion"], o["kind"]) for o in objects}
            check_scopes(template, objects, {k: await self.scopes.namespaced(*k) for k in kinds})
        except RenderError as error:
            return Deployment(Outcome("Failed", error.reason, error.message, kept.fingerprint, kept.manifests))
        copies, secrets, config_maps = await self._copies(instance, template, namespace, namespaces)
        everything = objects + copies
        kinds |= {(o["apiVersion"], o["kind"]) for o in copies}
        sources = {(kind, ref) for kind, attribute in MAPPED_KINDS for ref in getattr(template, attribute)}
        deployed = Outcome(
            "Deployed",
            fingerprint=fingerprint(everything),
            manifests=manifests_yaml(objects),
            secrets=secrets,
            config_maps=config_maps,
        )
        self.desired.setdefault(instance.uid, {})[namespace] = {key(o): o for o in everything}
        failed_copies = [
            f"{src}: {why}" for states in (secrets, config_maps) for src, (s, why) in states.items() if s != "Deployed"
        ]
        same = previous is not None and previous.fingerprint == deployed.fingerprint
        if same and previous is not None and previous.status == "Deployed" and not failed_copies:
            return Deployment(deployed, kinds, sources)
        try:
            # The same objects as last time (which failed): only what is missing or was changed is written.
            conflicts = await self._apply(instance, everything, changed=not same)
            if previous is not None and not same:
                await self._prune(instance, namespace, previous_kinds | kinds, keep={key(o) for o in everything})
        except ApiError as error:
            if error.status.code in RETRIED_BY_CALLER or (error.status.code or 500) >= 500:
                raise
            message = f"applying the template's objects failed: {error.status.message}"
            return Deployment(
                Outcome("Failed", "ApplyFailed", message, kept.fingerprint, kept.manifests, applied=True),
                kinds,
                sources,
            )
        deployed.applied = True
        if conflicts:
            deployed.status, deployed.reason = "Failed", "ObjectAlreadyExists"
            deployed.message = (
                f"{'; '.join(conflicts)}: {_who(instance)} did not create it, so it was left untouched; delete or "
                "rename it, or take it out of the template"
            )
        elif failed_copies:
            deployed.status, deployed.reason = "Failed", "MappingFailed"
            deployed.message = "; ".join(failed_copies)
        return Deployment(deployed, kinds, sources)

    async def _copies(
        self, instance: Instance, template: Template, namespace: str, namespaces: Mapping[str, Mapping[str, str]]
    ) -> tuple[list[Object], MappedStates, MappedStates]:
        copies: list[Object] = []
        states: dict[str, MappedStates] = {"Secret": {}, "ConfigMap": {}}
        for kind, attribute in MAPPED_KINDS:
            for ref in getattr(template, attribute):
                refused = mapping_refused(instance, ref, namespaces.get(ref.namespace, {}), namespaces[namespace])
                source = (
                    None
                    if refused or ref.namespace == namespace
                    else await self.kube.get("v1", kind, ref.name, ref.namespace)
                )
                if refused:
                    states[kind][str(ref)] = ("Failed", refused)
                elif ref.namespace == namespace:
                    states[kind][str(ref)] = ("Deployed", "")  # the source itself is there
                elif source is None:
                    states[kind][str(ref)] = ("Failed", f'{kind} "{ref.name}" not found in namespace "{ref.namespace}"')
                else:
                    copies.append(mapped_copy(source, namespace, instance))
                    states[kind][str(ref)] = ("Deployed", "")
        return copies, states["Secret"], states["ConfigMap"]

    async def _apply(self, instance: Instance, objects: Sequence[Object], *, changed: bool) -> list[str]:
        """Create or update each object; describe those someone else owns (left untouched).

        Unless the objects `changed` since they were last applied, ours are written only if they drifted.
        """
        limit = asyncio.Semaphore(CONCURRENCY)
        conflicts: list[str] = []

        async def one(obj: Object) -> None:
            meta = obj["metadata"]
            async with limit:
                live = await self.kube.get(obj["apiVersion"], obj["kind"], meta["name"], meta["namespace"])
                if live is None and await create_owned(self.kube, obj) is not None:
                    return
                if live is not None and (live["metadata"].get("labels") or {}).get(INSTANCE_LABEL) == instance.uid:
                    if changed or drifted(live, obj):
                        await apply_owned(self.kube, obj, live["metadata"]["uid"])
                    return
            conflicts.append(f'{obj["kind"]} "{meta["name"]}" already exists in namespace "{meta["namespace"]}"')

        await asyncio.gather(*(one(o) for o in objects))
        return sorted(conflicts)

    async def _prune(self, instance: Instance, namespace: str, kinds: set[Kind], keep: set[Key]) -> None:
        """Delete what the instance created in `namespace` (by its label) that is not in `keep`."""
        for api_version, kind in sorted(kinds):
            if not await self.scopes.namespaced(api_version, kind):
                continue
            for obj in await self.kube.list(
                api_version, kind, namespace=namespace, labels={INSTANCE_LABEL: instance.uid}
            ):
                if key(obj) not in keep:
                    await self.kube.delete(api_version, kind, obj["metadata"]["name"], namespace)

    async def remove(self, instance: Instance, namespace: str, kinds: set[Kind]) -> None:
        """Take everything the instance created out of `namespace` (it no longer matches)."""
        self.forget(instance.uid, namespace)
        await self._prune(instance, namespace, kinds, keep=set())

    def wanted(self, uid: str, obj: Mapping[str, Any]) -> Object | None:
        """What the instance with `uid` wants in place of `obj`, if it was deployed with drift repair on."""
        return self.desired.get(uid, {}).get(obj["metadata"].get("namespace", ""), {}).get(key(dict(obj)))
