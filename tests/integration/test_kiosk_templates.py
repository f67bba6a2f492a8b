"""Kiosk Templates and TemplateInstances against the real control plane and the real operator."""

from __future__ import annotations

import pytest

from kubetenancy.k8s import Kube
from kubetenancy.template_model import INSTANCE_LABEL
from tests.support.kubectl import Kubectl
from tests.support.metrics import metric
from tests.support.templates import (
    KIOSK,
    MTO,
    apply_instance,
    apply_template,
    config_map,
    gone,
    instance_status,
)
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

LIMIT_RANGE = {
    "apiVersion": "v1",
    "kind": "LimitRange",
    "metadata": {"name": "container-limit-range"},
    "spec": {"limits": [{"default": {"cpu": 1}, "defaultRequest": {"cpu": 0.5}, "type": "Container"}]},
}


async def test_parameter_errors_are_reported_on_the_status(operator: str, admin: Kube, namespace: str) -> None:
    template = f"db-{namespace}"
    parameters = [{"name": "DB", "required": True, "validation": "^[a-z]+$"}]
    await apply_template(admin, KIOSK, template, [config_map("db-${DB}", {})], parameters=parameters)

    await apply_instance(admin, KIOSK, "missing", namespace, template)
    status = await instance_status(admin, KIOSK, "missing", namespace, "Failed")
    assert status["reason"] == "ParameterRequired"
    assert status["message"] == (
        f'parameter "DB" is required by template "{template}", but TemplateInstance "missing" in namespace '
        f'"{namespace}" does not set it: add {{name: DB, value: ...}} to its parameters'
    )

    await apply_instance(admin, KIOSK, "invalid", namespace, template, DB="Orders1")
    status = await instance_status(admin, KIOSK, "invalid", namespace, "Failed")
    assert status["reason"] == "ParameterInvalid"
    assert status["message"] == (
        f'parameter "DB" has value "Orders1", which does not match the validation "^[a-z]+$" of template '
        f'"{template}": set a value that matches'
    )

    await apply_instance(admin, KIOSK, "nowhere", namespace, "no-such-template")
    status = await instance_status(admin, KIOSK, "nowhere", namespace, "Failed")
    assert (status["reason"], status["message"]) == (
        "TemplateNotFound",
        "The specified template 'no-such-template' couldn't be found.",
    )
    assert await admin.list("v1", "ConfigMap", namespace=namespace, labels={INSTANCE_LABEL: ""}) == []

    await apply_instance(admin, KIOSK, "invalid", namespace, template, DB="orders")  # fixed by its author
    await instance_status(admin, KIOSK, "invalid", namespace, "Deployed")
    assert await admin.get("v1", "ConfigMap", "db-orders", namespace) is not None


async def test_manifests_get_parameters_and_predefined_values(operator: str, admin: Kube, namespace: str) -> None:
    await admin.apply(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": namespace, "labels": {"kiosk.sh/account": "acme"}},
        }
    )
    template = f"app-{namespace}"
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "app-${NAME}"},
        "spec": {
            "replicas": "${{REPLICAS}}",
            "selector": {"matchLabels": {"app": "x"}},
            "template": {
                "metadata": {"labels": {"app": "x"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }
    settings = config_map("settings", {"ns": "${NAMESPACE}", "account": "${ACCOUNT}", "literal": "$${NAME}"})
    parameters = [{"name": "NAME", "required": True}, {"name": "REPLICAS", "value": "1", "validation": "^[0-9]+$"}]
    await apply_template(admin, KIOSK, template, [LIMIT_RANGE, settings, deployment], parameters=parameters)
    await apply_instance(admin, KIOSK, "app", namespace, template, NAME="orders", REPLICAS="3")

    status = await instance_status(admin, KIOSK, "app", namespace, "Deployed")
    assert status["templateResourceVersion"]
    assert "kind: Deployment" in status["templateManifests"]
    assert status["observedAt"]
    made = await admin.get("v1", "ConfigMap", "settings", namespace)
    assert made is not None
    assert made["data"] == {"ns": namespace, "account": "acme", "literal": "${NAME}"}
    app = await admin.get("apps/v1", "Deployment", "app-orders", namespace)
    assert app is not None
    assert app["spec"]["replicas"] == 3
    limits = await admin.get("v1", "LimitRange", "container-limit-range", namespace)
    assert limits is not None
    assert limits["spec"]["limits"][0]["defaultRequest"] == {"cpu": "500m"}
    instance = await admin.get(KIOSK, "TemplateInstance", "app", namespace)
    assert instance is not None
    (owner,) = app["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["uid"]) == ("TemplateInstance", instance["metadata"]["uid"])
    assert app["metadata"]["labels"][INSTANCE_LABEL] == instance["metadata"]["uid"]


async def test_an_unchanged_instance_costs_no_write(
    operator: str, admin: Kube, namespace: str, kubectl: Kubectl
) -> None:
    template = f"steady-{namespace}"
    await apply_template(admin, KIOSK, template, [LIMIT_RANGE])
    await apply_instance(admin, KIOSK, "steady", namespace, template, sync=True)
    await instance_status(admin, KIOSK, "steady", namespace, "Deployed")
    writes = [metric(operator, "kubetenancy_api_requests_total", verb=v) for v in ("apply", "create", "patch-status")]
    unchanged = metric(operator, "kubetenancy_template_passes_total", outcome="unchanged")
    # An annotation changes neither spec nor template: the operator looks again and writes nothing.
    kubectl.ok("annotate", "templateinstance", "steady", "-n", namespace, "touched=yes")

    async def looked_again() -> bool:
        return metric(operator, "kubetenancy_template_passes_total", outcome="unchanged") > unchanged

    await eventually(looked_again)
    assert writes == [
        metric(operator, "kubetenancy_api_requests_total", verb=v) for v in ("apply", "create", "patch-status")
    ]


async def test_an_instance_the_operator_created_is_deployed(operator: str, admin: Kube, namespace: str) -> None:
    """The Kiosk Account's mandatory templates reach a space as TemplateInstances kubetenancy itself makes."""
    template = f"space-template-{namespace}"
    await apply_template(admin, KIOSK, template, [LIMIT_RANGE])
    labels = {"app.kubernetes.io/managed-by": "kubetenancy", "kubetenancy.dev/tenant": "redis-account"}
    await admin.apply(
        {
            "apiVersion": KIOSK,
            "kind": "TemplateInstance",
            "metadata": {"name": "space-template", "namespace": namespace, "labels": labels},
            "spec": {"template": template},
        }
    )
    await instance_status(admin, KIOSK, "space-template", namespace, "Deployed")
    assert await admin.get("v1", "LimitRange", "container-limit-range", namespace) is not None


async def test_sync_reverts_drift_and_follows_the_template(operator: str, admin: Kube, namespace: str) -> None:
    template = f"synced-{namespace}"
    await apply_template(admin, KIOSK, template, [config_map("a", {"k": "v1"}), config_map("b", {"k": "v"})])
    await apply_instance(admin, KIOSK, "synced", namespace, template, sync=True)
    await instance_status(admin, KIOSK, "synced", namespace, "Deployed")

    await admin.delete("v1", "ConfigMap", "a", namespace)

    async def restored() -> bool:
        found = await admin.get("v1", "ConfigMap", "a", namespace)
        return found is not None and found["data"] == {"k": "v1"}

    await eventually(restored)
    live = await admin.get("v1", "ConfigMap", "a", namespace)
    assert live is not None
    await admin.replace({**live, "data": {"k": "changed", "added": "by someone"}})

    async def reverted() -> bool:
        found = await admin.get("v1", "ConfigMap", "a", namespace)
        return found is not None and found["data"] == {"k": "v1", "added": "by someone"}

    await eventually(reverted)

    # The template changes: a value, and one object is taken out (so it goes).
    await apply_template(admin, KIOSK, template, [config_map("a", {"k": "v2"})])

    async def followed() -> bool:
        found = await admin.get("v1", "ConfigMap", "a", namespace)
        pruned = await admin.get("v1", "ConfigMap", "b", namespace) is None
        return pruned and found is not None and found["data"]["k"] == "v2"

    await eventually(followed)


async def test_without_sync_the_first_deployment_stays(operator: str, admin: Kube, namespace: str) -> None:
    template = f"once-{namespace}"
    await apply_template(admin, KIOSK, template, [config_map("a-${WHO}", {"k": "v1"})])
    await apply_instance(admin, KIOSK, "once", namespace, template, WHO="once")
    deployed = await instance_status(admin, KIOSK, "once", namespace, "Deployed")
    await apply_instance(admin, KIOSK, "witness", namespace, template, sync=True, WHO="witness")
    await instance_status(admin, KIOSK, "witness", namespace, "Deployed")

    await apply_template(admin, KIOSK, template, [config_map("a-${WHO}", {"k": "v2"}), config_map("b-${WHO}", {})])

    async def witness_followed() -> bool:  # both instances heard of the change in the same event
        return await admin.get("v1", "ConfigMap", "b-witness", namespace) is not None

    await eventually(witness_followed)
    kept = await admin.get(KIOSK, "TemplateInstance", "once", namespace)
    assert kept is not None
    assert kept["status"] == deployed
    first = await admin.get("v1", "ConfigMap", "a-once", namespace)
    assert first is not None
    assert first["data"] == {"k": "v1"}
    assert await admin.get("v1", "ConfigMap", "b-once", namespace) is None


async def test_deleting_an_instance_removes_what_it_created_and_nothing_else(
    operator: str, admin: Kube, namespace: str
) -> None:
    await admin.create(config_map("theirs", {"mine": "yes"}, namespace))
    template = f"clash-{namespace}"
    await apply_template(admin, KIOSK, template, [config_map("theirs", {"k": "v"}), config_map("ours", {"k": "v"})])
    await apply_instance(admin, KIOSK, "clash", namespace, template)

    status = await instance_status(admin, KIOSK, "clash", namespace, "Failed")
    assert status["reason"] == "ObjectAlreadyExists"
    assert status["message"] == (
        f'ConfigMap "theirs" already exists in namespace "{namespace}": TemplateInstance "clash" did not create '
        "it, so it was left untouched; delete or rename it, or take it out of the template"
    )
    assert await admin.get("v1", "ConfigMap", "ours", namespace) is not None

    await admin.delete(KIOSK, "TemplateInstance", "clash", namespace)
    await gone(admin, "v1", "ConfigMap", "ours", namespace)
    theirs = await admin.get("v1", "ConfigMap", "theirs", namespace)
    assert theirs is not None
    assert theirs["data"] == {"mine": "yes"}
    assert INSTANCE_LABEL not in (theirs["metadata"].get("labels") or {})
    assert "ownerReferences" not in theirs["metadata"]


async def test_a_template_with_a_bad_validation_is_refused(operator: str, kubectl: Kubectl, namespace: str) -> None:
    template = f"""
apiVersion: {KIOSK}
kind: Template
metadata:
  name: broken-{namespace}
parameters:
- name: DB
  validation: "(["
resources:
  manifests:
  - apiVersion: v1
    metadata: {{name: x}}
"""
    code, output = kubectl("apply", "-f", "-", stdin=template)
    assert code != 0
    assert (
        'admission webhook "templates.kubetenancy.dev" denied the request: Template.config.kiosk.sh '
        f'"broken-{namespace}" is invalid: resources.manifests: Invalid value: manifest 1 has no kind; '
        'parameters[0].validation: Invalid value: "([" is not a regular expression'
    ) in output


async def test_kubectl_resolves_templateinstances_to_kiosk(
    operator: str, admin: Kube, namespace: str, kubectl: Kubectl
) -> None:
    """Both APIs serve `templateinstances`; kubectl takes the group that sorts first: config.kiosk.sh."""
    template = f"plain-{namespace}"
    for api in (KIOSK, MTO):
        await apply_template(admin, api, template, [])
    await apply_instance(admin, KIOSK, "kiosk-one", namespace, template)
    await apply_instance(admin, MTO, "mto-one", namespace, template)
    await instance_status(admin, KIOSK, "kiosk-one", namespace, "Deployed")
    await instance_status(admin, MTO, "mto-one", namespace, "Deployed")

    plain = kubectl.ok("get", "templateinstances", "-n", namespace)
    assert plain.splitlines()[0].split() == ["NAME", "TEMPLATE", "SYNC", "STATUS", "REASON", "AGE"]
    assert "kiosk-one" in plain
    assert "mto-one" not in plain
    qualified = kubectl.ok("get", "templateinstances.tenantoperator.stakater.com", "-n", namespace)
    assert "mto-one" in qualified
    assert "kiosk-one" not in qualified
    assert "tgi" in kubectl.ok("api-resources", "--api-group=tenantoperator.stakater.com")
