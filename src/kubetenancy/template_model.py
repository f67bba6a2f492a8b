"""The one internal template model every template front door produces and the template engine consumes.

A Kiosk Template and an MTO Template are both a `Template`; a Kiosk TemplateInstance, an MTO
TemplateInstance and an MTO TemplateGroupInstance are all an `Instance` of one, deployed into one
namespace or into every namespace a `LabelSelector` matches. The engine never asks which API an instance
came from. Everything here is immutable data; no I/O, no Kubernetes client.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

INSTANCE_LABEL = "kubetenancy.dev/template-instance"
"""On every object an instance created; the value is the instance's uid. Nothing else is ever pruned."""


@dataclass(frozen=True)
class Parameter:
    name: str
    value: str = ""
    """The default, used when the instance sets none."""
    required: bool = False
    validation: str = ""
    """A regular expression the value must match (searched, as Go's regexp.MatchString does)."""


@dataclass(frozen=True)
class Predefined:
    """A parameter every template can use without declaring it: the target namespace's name (no labels), or
    the first of `labels` the namespace carries ("" when it carries none)."""

    name: str
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class ObjectRef:
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class Template:
    name: str
    manifests: tuple[Mapping[str, Any], ...] = ()
    parameters: tuple[Parameter, ...] = ()
    predefined: tuple[Predefined, ...] = ()
    secrets: tuple[ObjectRef, ...] = ()
    """Secrets copied (by name) into every target namespace."""
    config_maps: tuple[ObjectRef, ...] = ()
    uses_helm: bool = False
    version: str = ""
    """The Template's resourceVersion."""


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.operator == "Exists":
            return self.key in labels
        if self.operator == "DoesNotExist":
            return self.key not in labels
        inside = self.key in labels and labels[self.key] in self.values
        return inside if self.operator == "In" else not inside


@dataclass(frozen=True)
class LabelSelector:
    """Kubernetes' label selector: every label and every requirement must hold; an empty one matches all."""

    match_labels: Mapping[str, str] = field(default_factory=dict)
    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        if any(labels.get(key) != value for key, value in self.match_labels.items()):
            return False
        return all(requirement.matches(labels) for requirement in self.requirements)


MappingScope = Literal["tenant", "cluster"]
"""Where copied Secrets and ConfigMaps may come from: the target's own tenant, or anywhere."""


@dataclass(frozen=True)
class Instance:
    api_version: str
    kind: str
    name: str
    uid: str
    template_api_version: str
    """The apiVersion of the Template kind it instantiates."""
    template: str
    namespace: str | None = None
    """Set for an instance that deploys into its own namespace; None for one with a selector."""
    selector: LabelSelector | None = None
    sync: bool = False
    parameters: Mapping[str, str] = field(default_factory=dict)
    mapping_scope: MappingScope = "tenant"
    tenant_labels: tuple[str, ...] = ()
    """Namespace labels that name a namespace's tenant (the first one set wins)."""
    generation: int = 1

    def targets(self, namespaces: Mapping[str, Mapping[str, str]]) -> list[str]:
        """The namespaces (of `namespaces`: name -> labels, live ones only) it deploys into."""
        if self.namespace is not None:
            return [self.namespace] if self.namespace in namespaces else []
        selector = self.selector or LabelSelector()
        return sorted(name for name, labels in namespaces.items() if selector.matches(labels))
