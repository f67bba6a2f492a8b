"""Rendering a template for one namespace, computed without a cluster: parameters, substitution, ownership."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from kubetenancy.desired.templates import (
    RenderError,
    check_scopes,
    drifted,
    fingerprint,
    kinds_in,
    manifests_yaml,
    mapped_copy,
    mapping_refused,
    parameter_values,
    render,
    substitute,
)
from kubetenancy.frontdoors import kiosk_templates as kiosk
from kubetenancy.frontdoors import tenantoperator_templates as mto
from kubetenancy.template_model import INSTANCE_LABEL, Instance, ObjectRef, Template

NS = "redis-space"


def kiosk_template(manifests: list[dict[str, Any]], parameters: list[dict[str, Any]] | None = None) -> Template:
    cr = {"metadata": {"name": "t", "resourceVersion": "7"}, "resources": {"manifests": manifests}}
    return kiosk.template_from_cr({**cr, "parameters": parameters or []})


def kiosk_instance(parameters: dict[str, str] | None = None) -> Instance:
    spec = {"template": "t", "parameters": [{"name": k, "value": v} for k, v in (parameters or {}).items()]}
    return kiosk.instance_from_cr({"metadata": {"name": "ti", "namespace": NS, "uid": "uid-1"}, "spec": spec})


def config_map(data: dict[str, Any], name: str = "cm") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


VALUES = {"NAME": "orders", "COUNT": "3", "LIST": "[a, b]", "FLAG": "true", "BAD": "[unclosed"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${NAME}", "orders"),
        ("db-${NAME}-${COUNT}", "db-orders-3"),
        ("${NAME}${NAME}", "ordersorders"),
        ("$${NAME}", "${NAME}"),
        ("$$${NAME}", "$${NAME}"),
        ("a $${NAME} ${NAME}", "a ${NAME} orders"),
        ("${HOME}/bin", "${HOME}/bin"),
        ("$NAME", "$NAME"),
        ("${{COUNT}}", 3),
        ("${{FLAG}}", True),
        ("${{LIST}}", ["a", "b"]),
        ("${{MISSING}}", "${{MISSING}}"),
        ("x ${{COUNT}}", "x ${{COUNT}}"),
        ("no variables", "no variables"),
    ],
)
def test_substitution_follows_kiosk(text: str, expected: Any) -> None:
    assert substitute(text, VALUES) == expected


def test_an_expression_that_is_not_yaml_is_an_error() -> None:
    with pytest.raises(RenderError, match='parameter "BAD" is "\\[unclosed"') as error:
        substitute("${{BAD}}", VALUES)
    assert error.value.reason == "InvalidExpression"


def test_instance_values_win_over_defaults_and_predefined_win_over_both() -> None:
    template = kiosk_template([], [{"name": "SIZE", "value": "small"}, {"name": "NAMESPACE", "value": "x"}])
    values = parameter_values(template, kiosk_instance({"SIZE": "big", "NAMESPACE": "other", "EXTRA": "1"}), NS, {})
    assert values == {"SIZE": "big", "NAMESPACE": NS, "ACCOUNT": "", "EXTRA": "1"}
    assert parameter_values(template, kiosk_instance(), NS, {})["SIZE"] == "small"


def test_account_comes_from_the_namespace_label() -> None:
    values = parameter_values(kiosk_template([]), kiosk_instance(), NS, {"kiosk.sh/account": "redis-account"})
    assert values["ACCOUNT"] == "redis-account"


def test_a_missing_required_parameter_names_the_parameter_and_the_fix() -> None:
    template = kiosk_template([], [{"name": "DB", "required": True, "value": "default-is-not-enough"}])
    for instance in (kiosk_instance(), kiosk_instance({"DB": ""})):
        with pytest.raises(RenderError) as error:
            parameter_values(template, instance, NS, {})
        assert error.value.reason == "ParameterRequired"
        assert error.value.message == (
            'parameter "DB" is required by template "t", but TemplateInstance "ti" in namespace "redis-space" '
            "does not set it: add {name: DB, value: ...} to its parameters"
        )


def test_validation_is_a_search_like_go_regexp_matchstring() -> None:
    template = kiosk_template([], [{"name": "CPU", "value": "1", "validation": "^[0-9]*\\.?[0-9]+$"}])
    assert parameter_values(template, kiosk_instance({"CPU": "0.5"}), NS, {})["CPU"] == "0.5"
    with pytest.raises(RenderError) as error:
        parameter_values(template, kiosk_instance({"CPU": "lots"}), NS, {})
    assert error.value.reason == "ParameterInvalid"
    assert 'parameter "CPU" has value "lots", which does not match the validation "^[0-9]*\\.?[0-9]+$"' in str(
        error.value
    )
    unanchored = kiosk_template([], [{"name": "ENV", "validation": "prod|dev"}])
    assert parameter_values(unanchored, kiosk_instance({"ENV": "my-dev-env"}), NS, {})["ENV"] == "my-dev-env"


def test_defaults_are_validated_but_an_empty_optional_value_is_not() -> None:
    bad_default = kiosk_template([], [{"name": "N", "value": "x", "validation": "^[0-9]+$"}])
    with pytest.raises(RenderError, match="does not match"):
        parameter_values(bad_default, kiosk_instance(), NS, {})
    empty = kiosk_template([], [{"name": "N", "validation": "^[0-9]+$"}])
    assert parameter_values(empty, kiosk_instance(), NS, {})["N"] == ""


def test_a_template_with_an_invalid_validation_is_refused_by_its_model() -> None:
    with pytest.raises(ValidationError, match='"\\(\\[" is not a regular expression'):
        kiosk_template([], [{"name": "N", "value": "1", "validation": "(["}])
    with pytest.raises(ValidationError, match="parameter N is declared more than once"):
        kiosk_template([], [{"name": "N"}, {"name": "N"}])
    with pytest.raises(ValidationError, match="manifest 1 has no kind"):
        kiosk_template([{"apiVersion": "v1", "metadata": {"name": "x"}}])


def test_render_forces_the_namespace_and_marks_ownership() -> None:
    manifest = config_map({"ns": "${NAMESPACE}", "${NAMESPACE}": "keys are kept"})
    manifest["metadata"].update(namespace="elsewhere", labels={"team": "a"}, uid="stale", resourceVersion="1")
    template = kiosk_template([manifest])
    (obj,) = render(template, kiosk_instance(), NS, {})
    assert obj["metadata"]["namespace"] == NS
    assert obj["metadata"]["labels"] == {"team": "a", INSTANCE_LABEL: "uid-1"}
    assert "uid" not in obj["metadata"]
    assert "resourceVersion" not in obj["metadata"]
    assert obj["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "config.kiosk.sh/v1alpha1",
            "kind": "TemplateInstance",
            "name": "ti",
            "uid": "uid-1",
            "blockOwnerDeletion": False,
        }
    ]
    assert obj["data"] == {"ns": NS, "${NAMESPACE}": "keys are kept"}
    assert template.manifests[0]["metadata"]["namespace"] == "elsewhere", "the template itself is not changed"


def test_seed_space_template_renders_its_limit_range() -> None:
    limit_range = {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": "container-limit-range"},
        "spec": {"limits": [{"default": {"cpu": 1}, "defaultRequest": {"cpu": 0.5}, "type": "Container"}]},
    }
    (obj,) = render(kiosk_template([limit_range]), kiosk_instance(), NS, {})
    assert obj["spec"] == limit_range["spec"]


def test_mto_parameters_expressions_and_predefined_names() -> None:
    cr = {
        "metadata": {"name": "namespace-parameterized-restrictions"},
        "parameters": [
            {"name": "DEFAULT_CPU_LIMIT", "value": "1"},
            {"name": "DEFAULT_CPU_REQUESTS", "value": "0.5", "validation": "^[0-9]*\\.?[0-9]+$"},
        ],
        "resources": {
            "manifests": [
                {
                    "apiVersion": "v1",
                    "kind": "LimitRange",
                    "metadata": {"name": "namespace-limit-range-${namespace}", "labels": {"t": "${TENANT}"}},
                    "spec": {
                        "limits": [
                            {
                                "default": {"cpu": "${{DEFAULT_CPU_LIMIT}}"},
                                "defaultRequest": {"cpu": "${{DEFAULT_CPU_REQUESTS}}"},
                                "type": "Container",
                            }
                        ]
                    },
                }
            ]
        },
    }
    group = {
        "kind": "TemplateGroupInstance",
        "metadata": {"name": "tgi", "uid": "uid-2"},
        "spec": {"template": cr["metadata"]["name"], "selector": {"matchLabels": {"kind": "build"}}},
        "parameters": [{"name": "DEFAULT_CPU_LIMIT", "value": "1.5"}, {"name": "DEFAULT_CPU_REQUESTS", "value": "1"}],
    }
    (obj,) = render(
        mto.template_from_cr(cr), mto.instance_from_cr(group), "alpha-dev", {"stakater.com/tenant": "alpha"}
    )
    assert obj["metadata"]["name"] == "namespace-limit-range-alpha-dev"
    assert obj["metadata"]["labels"]["t"] == "alpha"
    assert obj["spec"]["limits"][0]["default"] == {"cpu": 1.5}
    assert obj["spec"]["limits"][0]["defaultRequest"] == {"cpu": 1}
    assert obj["metadata"]["ownerReferences"][0]["kind"] == "TemplateGroupInstance"


def test_spec_parameters_win_over_the_ones_beside_the_spec() -> None:
    cr = {
        "kind": "TemplateInstance",
        "metadata": {"name": "ti", "namespace": NS, "uid": "u"},
        "spec": {"template": "t", "parameters": [{"name": "A", "value": "spec"}]},
        "parameters": [{"name": "A", "value": "top"}, {"name": "B", "value": "top"}],
    }
    assert dict(mto.instance_from_cr(cr).parameters) == {"A": "spec", "B": "top"}


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ({"apiVersion": "${EMPTY}", "kind": "ConfigMap", "metadata": {"name": "x"}}, "manifest 1 of template"),
        ({"apiVersion": "v1", "kind": "${EMPTY}", "metadata": {"name": "x"}}, "has no kind"),
        ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "${{NUMBER}}"}}, "has no metadata.name"),
    ],
)
def test_manifests_that_render_unusable_are_errors(manifest: dict[str, Any], message: str) -> None:
    """The model refuses manifests without these fields; parameters can still empty them."""
    template = kiosk_template([manifest], [{"name": "EMPTY"}, {"name": "NUMBER", "value": "5"}])
    with pytest.raises(RenderError, match=message) as error:
        render(template, kiosk_instance(), NS, {})
    assert error.value.reason == "ErrorConvertingManifest"


def test_two_manifests_for_one_object_are_an_error() -> None:
    with pytest.raises(RenderError, match='renders ConfigMap "cm" a second time'):
        render(kiosk_template([config_map({}), config_map({"a": "b"})]), kiosk_instance(), NS, {})


def test_helm_is_refused_on_the_status_not_ignored() -> None:
    cr = {"metadata": {"name": "redis"}, "resources": {"helm": {"chart": {"repository": {"name": "redis"}}}}}
    with pytest.raises(RenderError, match="kubetenancy does not do: nothing was deployed") as error:
        render(kiosk.template_from_cr(cr), kiosk_instance(), NS, {})
    assert error.value.reason == "HelmNotSupported"


def test_unknown_and_cluster_scoped_kinds_are_refused() -> None:
    template = kiosk_template([])
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"}}
    with pytest.raises(RenderError, match="cluster-scoped") as error:
        check_scopes(template, [role], {("rbac.authorization.k8s.io/v1", "ClusterRole"): False})
    assert error.value.reason == "ClusterScopedObject"
    sealed = {"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "metadata": {"name": "s"}}
    with pytest.raises(RenderError, match="install its CustomResourceDefinition") as error:
        check_scopes(template, [sealed], {})
    assert error.value.reason == "UnknownKind"
    check_scopes(template, [config_map({})], {("v1", "ConfigMap"): True})


def test_a_template_instance_copies_only_within_its_tenant() -> None:
    instance = mto.instance_from_cr(
        {"kind": "TemplateInstance", "metadata": {"name": "ti", "namespace": NS, "uid": "u"}, "spec": {"template": "t"}}
    )
    source = ObjectRef("alpha-build", "registry")
    alpha, beta = {"stakater.com/tenant": "alpha"}, {"kubetenancy.dev/tenant": "beta"}
    assert mapping_refused(instance, source, alpha, alpha) is None
    assert 'belongs to tenant "alpha", not to the target\'s tenant "beta"' in (
        mapping_refused(instance, source, alpha, beta) or ""
    )
    group = mto.instance_from_cr(
        {
            "kind": "TemplateGroupInstance",
            "metadata": {"name": "g", "uid": "u"},
            "spec": {"template": "t", "selector": {}},
        }
    )
    assert mapping_refused(group, source, alpha, beta) is None


def test_a_mapped_copy_keeps_data_and_drops_what_is_not_the_sources() -> None:
    source = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/dockercfg",
        "metadata": {
            "name": "registry",
            "namespace": "example",
            "uid": "src",
            "resourceVersion": "9",
            "labels": {"app": "r", "kubetenancy.dev/template-instance": "other"},
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}", "note": "n"},
        },
        "data": {".dockercfg": "e30="},
    }
    copy = mapped_copy(source, NS, kiosk_instance())
    assert copy["metadata"]["namespace"] == NS
    assert copy["metadata"]["labels"] == {"app": "r", INSTANCE_LABEL: "uid-1"}
    assert copy["metadata"]["annotations"] == {"note": "n"}
    assert copy["type"] == "kubernetes.io/dockercfg"
    assert copy["data"] == {".dockercfg": "e30="}
    assert "uid" not in copy["metadata"]


def test_status_manifests_hide_secret_values_and_name_their_kinds() -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"token": "t0p"}}
    text = manifests_yaml([config_map({"a": "b"}), secret])
    assert "t0p" not in text
    assert "(redacted)" in text
    assert kinds_in(text) == {("v1", "ConfigMap"), ("v1", "Secret")}
    assert kinds_in("not: [yaml") == set()
    assert fingerprint([config_map({"a": "b"})]) == fingerprint([config_map({"a": "b"})])
    assert fingerprint([config_map({"a": "b"})]) != fingerprint([config_map({"a": "c"})])


def test_drift_is_a_change_to_what_the_template_sets_not_an_addition() -> None:
    (wanted,) = render(kiosk_template([config_map({"a": "b"})]), kiosk_instance(), NS, {})
    live = {**wanted, "data": {"a": "b", "added": "by someone"}, "metadata": {**wanted["metadata"], "uid": "x"}}
    assert not drifted(live, wanted)
    assert drifted({**live, "data": {"a": "changed"}}, wanted)
    assert drifted({**live, "metadata": {**live["metadata"], "labels": {}}}, wanted)
    assert drifted({**live, "metadata": {**live["metadata"], "ownerReferences": []}}, wanted)
    limits = {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "l"}, "spec": {"cpu": 0.5, "on": True}}
    (wanted,) = render(kiosk_template([limits]), kiosk_instance(), NS, {})
    assert not drifted({**wanted, "spec": {"cpu": "500m", "on": True}}, wanted), "the API server's own spelling"
    assert drifted({**wanted, "spec": {"cpu": "500m", "on": 1}}, wanted)
