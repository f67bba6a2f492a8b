"""How one pass of the template engine reads and writes each API's instance status. Pure: no I/O.

The engine thinks in `Outcome`s, one per target namespace; a Kiosk TemplateInstance and an MTO
TemplateInstance show theirs as `status/reason/message` (Kiosk's shape), a TemplateGroupInstance as a
Ready condition plus `deployedNamespaces` (MTO's shape). The reconciler skeleton writes the next status
as one merge patch, only when it changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from kubetenancy.desired import content_hash
from kubetenancy.desired.templates import Kind, kinds_in
from kubetenancy.operator.tenants import ready_status
from kubetenancy.template_model import Instance, Template

Status = Literal["Deployed", "Failed"]
MappedStates = dict[str, tuple[Status, str]]
"""Source "namespace/name" -> (status, reason) of each copied Secret or ConfigMap."""


@dataclass
class Outcome:
    """What one pass left in one target namespace."""

    status: Status
    reason: str = ""
    message: str = ""
    fingerprint: str = ""
    """Hash of what is deployed there (kept from before when this pass failed)."""
    manifests: str = ""
    """The rendered manifests deployed there (Secret values redacted)."""
    applied: bool = False
    """Whether this pass wrote there."""
    secrets: MappedStates = field(default_factory=dict)
    config_maps: MappedStates = field(default_factory=dict)


@dataclass
class Pass:
    outcomes: dict[str, Outcome]
    kinds: set[Kind]
    template: Template | None = None
    problem: tuple[str, str] | None = None
    """(reason, message) of a failure of the whole instance, e.g. its template does not exist."""


@dataclass
class Previous:
    outcomes: dict[str, Outcome]
    kinds: set[Kind]


def _mapped_kinds(status: Mapping[str, Any]) -> set[Kind]:
    kinds: set[Kind] = set()
    if status.get("mappedSecrets"):
        kinds.add(("v1", "Secret"))
    if status.get("mappedConfigmaps"):
        kinds.add(("v1", "ConfigMap"))
    return kinds


def read(instance: Instance, status: Mapping[str, Any]) -> Previous:
    """What the status says the instance deployed, and where."""
    if instance.namespace is None:
        deployed = status.get("deployedNamespaces") or {}
        secrets, config_maps = status.get("mappedSecrets") or {}, status.get("mappedConfigmaps") or {}
        outcomes = {
            ns: Outcome(
                state.get("status") or "Failed",
                fingerprint=state.get("hash", ""),
                secrets=_states(secrets.get(ns)),
                config_maps=_states(config_maps.get(ns)),
            )
            for ns, state in deployed.items()
        }
        kinds = {(k.rsplit("/", 1)[0], k.rsplit("/", 1)[1]) for k in status.get("kinds") or [] if "/" in k}
        return Previous(outcomes, kinds)
    if status.get("status") not in ("Deployed", "Failed"):
        return Previous({}, set())
    manifests = status.get("templateManifests", "")
    outcome = Outcome(status["status"], fingerprint=status.get("templateHash", ""), manifests=manifests)
    return Previous({instance.namespace: outcome}, kinds_in(manifests) | _mapped_kinds(status))


def _states(raw: Mapping[str, Any] | None) -> MappedStates:
    return {source: (state.get("status") or "Failed", state.get("reason", "")) for source, state in (raw or {}).items()}


def _mapped(states: MappedStates) -> dict[str, dict[str, str]]:
    return {
        source: {"status": status, **({"reason": reason} if reason else {})}
        for source, (status, reason) in sorted(states.items())
    }


def _instance_status(
    instance: Instance, current: Mapping[str, Any], result: Pass, now: str, *, kiosk: bool
) -> dict[str, Any]:
    """Kiosk's TemplateInstance status (MTO's TemplateInstance adds the mapped objects)."""
    assert instance.namespace is not None
    outcome = result.outcomes.get(instance.namespace)
    if result.problem is not None:
        failure: tuple[str, str] | None = result.problem
    elif outcome is None:
        return dict(current)  # its namespace is going away: nothing to say
    else:
        failure = (outcome.reason, outcome.message) if outcome.status == "Failed" else None
    if failure is not None or outcome is None:
        kept = {k: current[k] for k in ("templateManifests", "templateHash", "templateResourceVersion") if k in current}
        reason, message = failure or ("", "")
        status: dict[str, Any] = {**kept, "status": "Failed", "reason": reason, "message": message}
        if outcome is not None and outcome.fingerprint:  # what is deployed in spite of the failure
            status.update(templateManifests=outcome.manifests, templateHash=outcome.fingerprint)
    else:
        status = {"status": "Deployed", "templateManifests": outcome.manifests, "templateHash": outcome.fingerprint}
        observed = now if outcome.applied else current.get("observedAt")
        if observed:
            status["observedAt"] = observed
        if kiosk and result.template is not None:
            status["templateResourceVersion"] = result.template.version
    if not kiosk and outcome is not None:
        status["mappedSecrets"] = _mapped(outcome.secrets)
        status["mappedConfigmaps"] = _mapped(outcome.config_maps)
    return status


def kiosk_instance_status(instance: Instance, current: Mapping[str, Any], result: Pass, now: str) -> dict[str, Any]:
    return _instance_status(instance, current, result, now, kiosk=True)


def mto_instance_status(instance: Instance, current: Mapping[str, Any], result: Pass, now: str) -> dict[str, Any]:
    return _instance_status(instance, current, result, now, kiosk=False)


def group_status(instance: Instance, current: Mapping[str, Any], result: Pass, now: str) -> dict[str, Any]:
    """MTO's TemplateGroupInstance status: Ready, deployedNamespaces, mapped objects, hashes."""
    outcomes = dict(sorted(result.outcomes.items()))
    failed = {ns: o for ns, o in outcomes.items() if o.status == "Failed"}
    if result.problem is not None:
        ready, (reason, message) = False, result.problem
    elif failed:
        ready, reason = False, "DeployFailed"
        details = "; ".join(f"{ns}: {o.message}" for ns, o in failed.items())
        message = f"failed in {len(failed)} of {len(outcomes)} namespace(s): {details}"
    else:
        ready, reason, message = True, "Deployed", f"deployed into {len(outcomes)} namespace(s)"
    deployed = {
        ns: {"status": o.status, "hash": o.fingerprint, **({"message": o.message} if o.message else {})}
        for ns, o in outcomes.items()
    }
    return ready_status(
        dict(current), instance.generation, ready, reason, message,
        deployedNamespaces=deployed,
        mappedSecrets={ns: _mapped(o.secrets) for ns, o in outcomes.items() if o.secrets},
        mappedConfigmaps={ns: _mapped(o.config_maps) for ns, o in outcomes.items() if o.config_maps},
        namespaceCount=len(outcomes),
        kinds=sorted(f"{api_version}/{kind}" for api_version, kind in result.kinds),
        **_template_hashes(instance, result.template, current),
    )  # fmt: skip


def _template_hashes(instance: Instance, template: Template | None, current: Mapping[str, Any]) -> dict[str, str]:
    if template is None:
        return {k: current[k] for k in ("templateManifestsHash", "templateResourceMappingHash") if k in current}
    mappings = {"secrets": [str(r) for r in template.secrets], "configMaps": [str(r) for r in template.config_maps]}
    return {
        "templateManifestsHash": content_hash(
            [{"manifests": list(template.manifests), "parameters": dict(instance.parameters)}]
        ),
        "templateResourceMappingHash": content_hash([mappings]),
    }
