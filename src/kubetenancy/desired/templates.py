"""What a template instance should create in one namespace: parameters resolved, manifests rendered, copies
of mapped Secrets and ConfigMaps, each object labelled and owned by its instance.

Pure: no I/O. The caller reads the Template, the namespace's labels, the kinds that are cluster-scoped and
the sources of mapped objects, and applies what comes out. Errors a user must fix are `RenderError`s
whose reason and message go on the instance's status.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import yaml

from kubetenancy import quantity
from kubetenancy.desired.meta import OwnerRef
from kubetenancy.desired.tenant import content_hash
from kubetenancy.template_model import INSTANCE_LABEL, Instance, ObjectRef, Template

Object = dict[str, Any]
Kind = tuple[str, str]
"""(apiVersion, kind)."""

_VARIABLE = re.compile(r"\$+?\{[^}]+\}")
"""Kiosk's `${NAME}`; a run of two or more `$` escapes it (one `$` is dropped, nothing is replaced)."""
_EXPRESSION = re.compile(r"^\$\{\{[^}]+\}\}$")
"""Kiosk's `${{NAME}}`: a whole string replaced by the value parsed as YAML (a number, a list, ...)."""
_NOT_COPIED = ("kubectl.kubernetes.io/last-applied-configuration",)


class RenderError(Exception):
    """Something the template's author or the instance's author must fix; nothing is deployed."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def _instance_name(instance: Instance) -> str:
    where = f' in namespace "{instance.namespace}"' if instance.namespace else ""
    return f'{instance.kind} "{instance.name}"{where}'


def parameter_values(
    template: Template, instance: Instance, namespace: str, labels: Mapping[str, str]
) -> dict[str, str]:
    """Every parameter's value for one target namespace; raises `RenderError` for a missing or invalid one.

    The instance's values win over the template's defaults; predefined ones (the namespace, its tenant)
    win over both, so nobody can point ${NAMESPACE} at another namespace.
    """
    values = dict(instance.parameters)
    for parameter in template.parameters:
        given = instance.parameters.get(parameter.name, "")
        if parameter.required and not given:
            raise RenderError(
                "ParameterRequired",
                f'parameter "{parameter.name}" is required by template "{template.name}", but '
                f"{_instance_name(instance)} does not set it: add {{name: {parameter.name}, value: ...}} "
                "to its parameters",
            )
        value = given or parameter.value
        values[parameter.name] = value
        if parameter.validation and value and re.search(parameter.validation, value) is None:
            raise RenderError(
                "ParameterInvalid",
                f'parameter "{parameter.name}" has value "{value}", which does not match the validation '
                f'"{parameter.validation}" of template "{template.name}": set a value that matches',
            )
    for predefined in template.predefined:
        values[predefined.name] = first_label(labels, predefined.labels) if predefined.labels else namespace
    return values


def substitute(text: str, values: Mapping[str, str]) -> Any:
    """Replace `${NAME}` in `text`; a whole-string `${{NAME}}` becomes the value parsed as YAML.

    Names that are no parameter are left as written (manifests may carry shell variables).
    """
    if _EXPRESSION.match(text):
        name = text[3:-2]
        if name not in values:
            return text
        try:
            return yaml.safe_load(values[name])
        except yaml.YAMLError as error:
            raise RenderError(
                "InvalidExpression",
                f'"${{{{{name}}}}}" needs a YAML value, but parameter "{name}" is "{values[name]}": '
                f"{str(error).splitlines()[0]}",
            ) from error

    def replace(match: re.Match[str]) -> str:
        found = match.group(0)
        if found.startswith("$$"):
            return found[1:]
        name = found[2:-1]
        return values.get(name, found)

    return _VARIABLE.sub(replace, text)


def _walk(node: Any, values: Mapping[str, str]) -> Any:
    """Substitute in every string value (never in keys), as Kiosk does."""
    if isinstance(node, str):
        return substitute(node, values)
    if isinstance(node, dict):
        return {key: _walk(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [_walk(item, values) for item in node]
    return node


def owner_of(instance: Instance) -> OwnerRef:
    return OwnerRef(instance.api_version, instance.kind, instance.name, instance.uid)


def _owned(obj: Object, namespace: str, instance: Instance) -> Object:
    metadata = dict(obj.get("metadata") or {})
    for system_field in ("uid", "resourceVersion", "creationTimestamp", "managedFields", "generation"):
        metadata.pop(system_field, None)
    metadata["namespace"] = namespace
    metadata["labels"] = {**(metadata.get("labels") or {}), INSTANCE_LABEL: instance.uid}
    metadata["ownerReferences"] = [*(metadata.get("ownerReferences") or []), owner_of(instance).to_wire()]
    return {**obj, "metadata": metadata}


def _describe(template: Template, index: int) -> str:
    return f'manifest {index + 1} of template "{template.name}"'


def render(template: Template, instance: Instance, namespace: str, labels: Mapping[str, str]) -> list[Object]:
    """The objects `template.manifests` make in `namespace` (mapped copies come from `mapped_copy`)."""
    if template.uses_helm:
        raise RenderError(
            "HelmNotSupported",
            f'template "{template.name}" deploys a Helm chart (resources.helm), which kubetenancy does not do: '
            "nothing was deployed; render the chart into resources.manifests instead",
        )
    values = parameter_values(template, instance, namespace, labels)
    objects: list[Object] = []
    seen: set[tuple[str, str, str]] = set()
    for index, manifest in enumerate(template.manifests):
        rendered = _walk(copy.deepcopy(dict(manifest)), values)
        name = (rendered.get("metadata") or {}).get("name") if isinstance(rendered.get("metadata"), dict) else None
        for field, value in (("apiVersion", rendered.get("apiVersion")), ("kind", rendered.get("kind"))):
            if not isinstance(value, str) or not value:
                raise RenderError("ErrorConvertingManifest", f"{_describe(template, index)} has no {field}")
        if not isinstance(name, str) or not name:
            raise RenderError("ErrorConvertingManifest", f"{_describe(template, index)} has no metadata.name")
        identity = (rendered["apiVersion"], rendered["kind"], name)
        if identity in seen:
            raise RenderError(
                "DuplicateObject", f'{_describe(template, index)} renders {rendered["kind"]} "{name}" a second time'
            )
        seen.add(identity)
        objects.append(_owned(rendered, namespace, instance))
    return objects


def check_scopes(template: Template, objects: Iterable[Object], namespaced: Mapping[Kind, bool | None]) -> None:
    """Refuse kinds the API server does not serve (None) and cluster-scoped ones (False)."""
    for obj in objects:
        kind, name = (obj["apiVersion"], obj["kind"]), obj["metadata"]["name"]
        scope = namespaced.get(kind)
        if scope is None:
            raise RenderError(
                "UnknownKind",
                f'template "{template.name}" has {kind[1]} "{name}", but the API server serves no kind {kind[1]} in '
                f"{kind[0]}: install its CustomResourceDefinition or fix the template",
            )
        if not scope:
            raise RenderError(
                "ClusterScopedObject",
                f'template "{template.name}" has {kind[1]} "{name}", which is cluster-scoped: templates deploy '
                "namespaced objects only (into the instance's namespace)",
            )


def first_label(labels: Mapping[str, str], keys: Iterable[str]) -> str:
    """The value of the first of `keys` that `labels` carries, or ""."""
    return next((labels[key] for key in keys if labels.get(key)), "")


def mapping_refused(
    instance: Instance, source: ObjectRef, source_labels: Mapping[str, str], target_labels: Mapping[str, str]
) -> str | None:
    """Why `source` may not be copied into the target namespace, or None when it may."""
    if instance.mapping_scope == "cluster":
        return None
    source_tenant = first_label(source_labels, instance.tenant_labels)
    target_tenant = first_label(target_labels, instance.tenant_labels)
    if source_tenant == target_tenant:
        return None
    return (
        f'namespace "{source.namespace}" belongs to tenant "{source_tenant or "(none)"}", not to the target\'s '
        f'tenant "{target_tenant or "(none)"}": a TemplateInstance copies only within its tenant; use a '
        "TemplateGroupInstance to copy across tenants"
    )


def mapped_copy(source: Object, namespace: str, instance: Instance) -> Object:
    """A copy of a Secret or ConfigMap for `namespace`: its data, type, labels and annotations."""
    metadata = source["metadata"]
    labels = {k: v for k, v in (metadata.get("labels") or {}).items() if not k.startswith("kubetenancy.dev/")}
    annotations = {k: v for k, v in (metadata.get("annotations") or {}).items() if k not in _NOT_COPIED}
    copied: Object = {
        "apiVersion": source["apiVersion"],
        "kind": source["kind"],
        "metadata": {"name": metadata["name"], "labels": labels, "annotations": annotations},
    }
    for field in ("data", "binaryData", "type", "immutable"):
        if field in source:
            copied[field] = source[field]
    return _owned(copied, namespace, instance)


def manifests_yaml(objects: Iterable[Object]) -> str:
    """The objects as one YAML stream (what Kiosk keeps in status.templateManifests).

    Secret values are redacted: more people may read an instance's status than the Secrets it deploys.
    """
    return "---\n".join(yaml.safe_dump(_redacted(obj), sort_keys=True) for obj in objects)


def _redacted(obj: Object) -> Object:
    if obj.get("kind") != "Secret":
        return obj
    hidden = {f: {key: "(redacted)" for key in obj[f]} for f in ("data", "stringData") if isinstance(obj.get(f), dict)}
    return {**obj, **hidden}


def fingerprint(objects: Sequence[Object]) -> str:
    """Equal fingerprints mean the same objects: nothing to apply."""
    return content_hash(objects)


def kinds_in(manifests: str) -> set[Kind]:
    """The kinds of the objects in a YAML stream written by `manifests_yaml`; unreadable text has none."""
    try:
        documents = list(yaml.safe_load_all(manifests))
    except yaml.YAMLError:
        return set()
    return {(d["apiVersion"], d["kind"]) for d in documents if isinstance(d, dict) and "apiVersion" in d}


def drifted(live: Mapping[str, Any], desired: Mapping[str, Any]) -> bool:
    """Whether `live` no longer carries what `desired` sets (other managers' additions are not drift)."""
    live_meta, desired_meta = live.get("metadata") or {}, desired.get("metadata") or {}
    for part in ("labels", "annotations"):
        if not _contains(live_meta.get(part) or {}, desired_meta.get(part) or {}):
            return True
    owners = {ref.get("uid") for ref in live_meta.get("ownerReferences") or []}
    if any(ref["uid"] not in owners for ref in desired_meta.get("ownerReferences") or []):
        return True
    body = {k: v for k, v in desired.items() if k not in ("metadata", "status")}
    return not _contains(live, body)


def _contains(live: Any, desired: Any) -> bool:
    if isinstance(desired, dict):
        return isinstance(live, dict) and all(k in live and _contains(live[k], v) for k, v in desired.items())
    if isinstance(desired, list):
        return (
            isinstance(live, list)
            and len(live) == len(desired)
            and all(_contains(a, b) for a, b in zip(live, desired, strict=True))
        )
    if isinstance(live, bool) or isinstance(desired, bool):
        return live is desired
    return bool(live == desired) or _same_quantity(live, desired)


def _same_quantity(live: Any, desired: Any) -> bool:
    """The API server writes quantities its own way (0.5 -> "500m"): that is not drift."""
    if not isinstance(live, str | int | float) or not isinstance(desired, str | int | float):
        return False
    try:
        return quantity.parse(str(live)) == quantity.parse(str(desired))
    except ValueError:
        return False
