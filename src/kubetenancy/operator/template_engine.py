"""The template engine: deploys every template instance, Kiosk's and MTO's alike, into its namespaces.

It keeps what the events delivered (templates, instances, namespaces' labels), runs one pass per instance
when something it depends on changed, and writes the instance's status at most once per pass, only when
it changed. With `sync` on, it watches what an instance created (by label) and the Secrets and ConfigMaps
it copies, and puts back what drifted. Deleting an instance needs no handler: what it created carries an
owner reference to it and the garbage collector removes it, even while the operator is down.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections import defaultdict
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from prometheus_client import Counter
from pydantic import ValidationError

from kubetenancy.desired.templates import Kind, drifted
from kubetenancy.frontdoors.table import INSTANCES, TEMPLATES, Door, InstanceDoor, StatusFormat
from kubetenancy.k8s import ApiError, Kube
from kubetenancy.k8s.owned import apply_owned, create_owned
from kubetenancy.k8s.watches import watch
from kubetenancy.operator.template_deploy import Deployer
from kubetenancy.operator.template_status import (
    Outcome,
    Pass,
    Previous,
    group_status,
    kiosk_instance_status,
    mto_instance_status,
    read,
)
from kubetenancy.reconciling import RETRIED, Reconciler, status_writer
from kubetenancy.template_model import INSTANCE_LABEL, Instance, Template

log = logging.getLogger(__name__)

Key = tuple[str, str, str, str]
"""(apiVersion, kind, namespace or "", name) of an instance."""
StatusShape = Callable[[Instance, Mapping[str, Any], Pass, str], dict[str, Any]]

STATUS_SHAPES: dict[StatusFormat, StatusShape] = {
    "kiosk-instance": kiosk_instance_status,
    "mto-instance": mto_instance_status,
    "mto-group": group_status,
}
INSTANCE_DOORS: dict[tuple[str, str], InstanceDoor] = {(d.served.api_version, d.served.kind): d for d in INSTANCES}
TEMPLATE_DOORS: dict[str, Door[Template]] = {d.served.api_version: d for d in TEMPLATES}
FRESH = "fresh"
"""A pass flag: pass even though nothing the instance depends on changed (a copied object changed)."""
RETRY_LATER_SECONDS = 30.0
RETRY_AT_MOST_SECONDS = 300.0
RETRIED_LATER = frozenset({"ObjectAlreadyExists", "ApplyFailed", "MappingFailed", "UnknownKind"})
"""Failures that can go away without any event we watch (someone deletes the object in the way, ...)."""
CONCURRENCY = 16
PASSES = Counter("kubetenancy_template_passes", "Template instance passes, by outcome", ["outcome"])


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def instance_key(body: Mapping[str, Any]) -> Key:
    meta = body["metadata"]
    return body["apiVersion"], body["kind"], meta.get("namespace", ""), meta["name"]


class TemplateEngine:
    def __init__(self, kube: Kube) -> None:
        self.kube = kube
        self.deployer = Deployer(kube)
        self.templates: dict[tuple[str, str], Template | str] = {}
        """(apiVersion, name) -> the Template, or why it could not be read."""
        self.instances: dict[Key, Instance] = {}
        self.by_uid: dict[str, Key] = {}
        self.namespaces: dict[str, dict[str, str]] = {}
        """Labels of every namespace that exists and is not being deleted."""
        self.passes: Reconciler[Key] = Reconciler("template-instance", self._read, self._pass, status_writer(kube))
        self._passed: dict[Key, object] = {}
        """What each instance's last complete pass depended on; the same again needs no pass."""
        self._sources: defaultdict[tuple[str, str, str], set[Key]] = defaultdict(set)
        self._tasks: dict[tuple[str, ...], asyncio.Task[None]] = {}
        self._retries: dict[Key, int] = {}

    async def start(self) -> None:
        """Learn the templates and namespaces before any instance event, so first passes see them."""
        for api_version, door in TEMPLATE_DOORS.items():
            for cr in await self.kube.list(api_version, door.served.kind):
                self.template_seen(api_version, cr["metadata"]["name"], cr)
        for ns in await self.kube.list("v1", "Namespace"):
            self.namespace_seen(ns["metadata"]["name"], ns["metadata"].get("labels") or {}, gone=_going(ns))

    async def stop(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    # -- what events deliver -------------------------------------------------------------------------

    def template_seen(self, api_version: str, name: str, cr: Mapping[str, Any] | None) -> list[Key]:
        """Record a Template (None: deleted); return the instances that use it."""
        if cr is None:
            self.templates.pop((api_version, name), None)
        else:
            try:
                self.templates[(api_version, name)] = TEMPLATE_DOORS[api_version].read(cr)
            except ValidationError as error:
                self.templates[(api_version, name)] = f'template "{name}" is invalid: {error}'
        return [k for k, i in self.instances.items() if (i.template_api_version, i.template) == (api_version, name)]

    def namespace_seen(self, name: str, labels: Mapping[str, str], *, gone: bool) -> list[Key]:
        """Record a namespace's labels; return the instances that deploy (or deployed) into it."""
        before = self.namespaces.pop(name, None)
        if not gone:
            self.namespaces[name] = dict(labels)
        if before == self.namespaces.get(name):
            return []
        affected = []
        for key, instance in self.instances.items():
            if instance.namespace == name:
                affected.append(key)
            elif instance.selector is not None:
                matched = before is not None and instance.selector.matches(before)
                if matched or (not gone and instance.selector.matches(labels)):
                    affected.append(key)
        return affected

    def forget(self, key: Key) -> None:
        instance = self.instances.pop(key, None)
        self._passed.pop(key, None)
        self._retries.pop(key, None)
        if instance is not None:
            self.by_uid.pop(instance.uid, None)
            self.deployer.forget(instance.uid)
        for users in self._sources.values():
            users.discard(key)
        self.passes.forget(key)

    async def reconcile_all(self, keys: list[Key], *, fresh: bool = False) -> None:
        limit = asyncio.Semaphore(CONCURRENCY)

        async def one(key: Key) -> None:
            async with limit:
                await self.reconcile(key, fresh=fresh)

        await asyncio.gather(*(one(k) for k in keys))

    # -- one pass ------------------------------------------------------------------------------------

    async def reconcile(self, key: Key, body: Mapping[str, Any] | None = None, *, fresh: bool = False) -> None:
        """Bring one instance to its template; `body` is the instance as its event delivered it.

        A pass is skipped when nothing it depends on changed since the last one, unless `fresh` (a copied
        Secret or ConfigMap changed, or a failure is retried).
        """
        await self.passes.run(key, dict(body) if body is not None else None, *([FRESH] if fresh else []))

    async def _read(self, key: Key) -> dict[str, Any] | None:
        api_version, kind, namespace, name = key
        return await self.kube.get(api_version, kind, name, namespace or None)

    async def _pass(self, key: Key, body: dict[str, Any], flags: frozenset[str]) -> dict[str, Any] | None:
        """One pass over an instance; returns its next status (written once by the skeleton)."""
        fresh = bool(flags & {FRESH, RETRIED})
        door = INSTANCE_DOORS[key[:2]]
        shape = STATUS_SHAPES[door.status_format]
        current: Mapping[str, Any] = body.get("status") or {}
        try:
            instance = door.read(body)
        except ValidationError as error:
            failed = Pass({}, set(), problem=("InvalidSpec", str(error)))
            return shape(_bare(body), current, failed, _now())
        self.instances[key] = instance
        self.by_uid[instance.uid] = key
        if instance.namespace is not None and not instance.sync and current.get("status") == "Deployed":
            return None  # deployed once, as Kiosk does: later template changes (even its deletion) are not followed
        template = await self._template(instance)
        if not isinstance(template, Template):
            self._passed.pop(key, None)
            return shape(instance, current, Pass({}, set(), problem=template), _now())
        targets = instance.targets(self.namespaces)
        depends_on = (instance.generation, template.version, [(ns, self.namespaces[ns]) for ns in targets])
        if not fresh and self._passed.get(key) == depends_on:
            PASSES.labels("unchanged").inc()
            return None
        result = await self._deploy(instance, template, targets, read(instance, current))
        self._passed[key] = depends_on
        PASSES.labels("failed" if any(o.status == "Failed" for o in result.outcomes.values()) else "deployed").inc()
        if any(o.reason in RETRIED_LATER for o in result.outcomes.values()):
            self._retry_later(key)
        else:
            self._retries.pop(key, None)
        if instance.sync:
            self._follow(result)
        return shape(instance, current, result, _now())

    async def _template(self, instance: Instance) -> Template | tuple[str, str]:
        """The instance's Template, or (reason, message) saying why there is none."""
        where = (instance.template_api_version, instance.template)
        if where not in self.templates:  # perhaps created a moment ago: confirm before reporting it missing
            kind = TEMPLATE_DOORS[instance.template_api_version].served.kind
            found = await self.kube.get(instance.template_api_version, kind, instance.template)
            if found is not None:
                self.template_seen(*where, found)
        template = self.templates.get(where)
        if template is None:
            return "TemplateNotFound", f"The specified template '{instance.template}' couldn't be found."
        if isinstance(template, str):
            return "InvalidTemplate", template
        return template

    async def _deploy(self, instance: Instance, template: Template, targets: list[str], previous: Previous) -> Pass:
        """Deploy into every target, and take it out of namespaces that are no longer targets."""
        outcomes: dict[str, Outcome] = {}
        kinds: set[Kind] = set()
        kept = False
        for namespace in targets:
            before = previous.outcomes.get(namespace)
            if before is not None and before.status == "Deployed" and not instance.sync:
                outcomes[namespace], kept = before, True  # deployed there once; not synced: left as it is
                continue
            deployment = await self.deployer.deploy(
                instance, template, namespace, self.namespaces, before, previous.kinds
            )
            outcomes[namespace] = deployment.outcome
            kinds |= deployment.kinds
            if instance.sync:
                for kind, source in deployment.sources:
                    self._sources[(kind, source.namespace, source.name)].add(_key_of(instance))
        for namespace in sorted(set(previous.outcomes) - set(targets)):
            if namespace in self.namespaces:  # it stopped matching (one being deleted takes everything along)
                await self.deployer.remove(instance, namespace, previous.kinds | kinds)
            else:
                self.deployer.forget(instance.uid, namespace)
        return Pass(outcomes, kinds | previous.kinds if kept else kinds, template)

    def _retry_later(self, key: Key) -> None:
        """Try a failed instance again later, less often each time (30 s doubling up to 5 min)."""
        attempt = self._retries[key] = self._retries.get(key, -1) + 1
        delay = min(RETRY_LATER_SECONDS * 2**attempt, RETRY_AT_MOST_SECONDS)

        async def retry() -> None:
            await asyncio.sleep(delay)
            del self._tasks[("retry", *key)]
            await self.reconcile(key, fresh=True)

        self._spawn(("retry", *key), retry())

    # -- drift and copied objects (instances with sync on) -------------------------------------------

    def _follow(self, result: Pass) -> None:
        for api_version, kind in result.kinds:
            self._spawn(("created", api_version, kind), self._watch_created(api_version, kind))
        for kind, namespace, name in list(self._sources):
            self._spawn(("source", kind, namespace, name), self._watch_source(kind, namespace, name))

    def _spawn(self, name: tuple[str, ...], work: Coroutine[Any, Any, None]) -> None:
        if name in self._tasks:
            work.close()
            return
        self._tasks[name] = asyncio.create_task(work, name=":".join(name))

    async def _watch_created(self, api_version: str, kind: str) -> None:
        async for event, obj in watch(self.kube, api_version, kind, label=INSTANCE_LABEL):
            try:
                await self.object_changed(event, obj)
            except Exception:
                log.exception("putting back %s %s failed", kind, obj["metadata"].get("name"))

    async def _watch_source(self, kind: str, namespace: str, name: str) -> None:
        async for _, _obj in watch(self.kube, "v1", kind, namespace=namespace, name=name):
            keys = [k for k in self._sources.get((kind, namespace, name), ()) if k in self.instances]
            try:
                await self.reconcile_all(keys, fresh=True)
            except Exception:
                log.exception("following %s %s/%s failed", kind, namespace, name)

    async def object_changed(self, event: str, obj: Mapping[str, Any]) -> None:
        """Put back an object a synced instance created, if it was deleted or changed."""
        uid = (obj["metadata"].get("labels") or {}).get(INSTANCE_LABEL, "")
        key = self.by_uid.get(uid)
        instance = self.instances.get(key) if key else None
        wanted = self.deployer.wanted(uid, obj)
        if key is None or instance is None or not instance.sync or wanted is None:
            return
        if obj["metadata"].get("namespace") not in self.namespaces:
            return
        async with self.passes.exclusive(key):
            try:
                if event == "DELETED":
                    owner = await self.kube.get(instance.api_version, instance.kind, instance.name, instance.namespace)
                    if owner is None:
                        return  # the garbage collector is removing what a deleted instance created
                    log.info("putting back %s %s/%s, which was deleted", obj["kind"], *_where(obj))
                    if await create_owned(self.kube, wanted) is None:
                        self._passed.pop(key, None)  # someone else made one: the next pass reports it
                        self._retry_later(key)
                elif drifted(obj, wanted):
                    log.info("putting back %s %s/%s, which changed", obj["kind"], *_where(obj))
                    await apply_owned(self.kube, wanted, obj["metadata"]["uid"])
            except ApiError as error:
                log.info("could not put back %s %s: %s", obj["kind"], obj["metadata"]["name"], error.status.message)


def _going(namespace: Mapping[str, Any]) -> bool:
    return (
        bool(namespace["metadata"].get("deletionTimestamp"))
        or namespace.get("status", {}).get("phase") == "Terminating"
    )


def _where(obj: Mapping[str, Any]) -> tuple[str, str]:
    return obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


def _key_of(instance: Instance) -> Key:
    return instance.api_version, instance.kind, instance.namespace or "", instance.name


def _bare(body: Mapping[str, Any]) -> Instance:
    """Enough of an instance whose spec cannot be read to report that on its status."""
    meta = body["metadata"]
    return Instance(
        body["apiVersion"], body["kind"], meta["name"], meta.get("uid", ""), "", "",
        namespace=meta.get("namespace"), generation=meta.get("generation", 1),
    )  # fmt: skip
