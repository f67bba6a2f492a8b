"""Typed models of every API kubetenancy serves, and the CRDs generated from them."""

from typing import Any

from kubetenancy.api import kiosk, kiosk_templates, sveltos, tenantoperator, tenantoperator_templates
from kubetenancy.api.crd import ServedKind, crd_manifest

SERVED_CRDS: tuple[tuple[ServedKind, ...], ...] = (
    (tenantoperator.TENANT_V1BETA3,),
    (tenantoperator.QUOTA_V1BETA1,),
    (tenantoperator.INTEGRATION_CONFIG_V1BETA1,),
    (kiosk.ACCOUNT_V1ALPHA1,),
    (kiosk.ACCOUNT_QUOTA_V1ALPHA1,),
    (kiosk_templates.TEMPLATE_V1ALPHA1,),
    (kiosk_templates.TEMPLATE_INSTANCE_V1ALPHA1,),
    (tenantoperator_templates.TEMPLATE_V1ALPHA1,),
    (tenantoperator_templates.TEMPLATE_INSTANCE_V1ALPHA1,),
    (tenantoperator_templates.TEMPLATE_GROUP_INSTANCE_V1ALPHA1,),
    (sveltos.SVELTOS_CLUSTER_V1BETA1,),
    (sveltos.CAPI_CLUSTER_V1BETA1,),
    (sveltos.ROLE_REQUEST_V1BETA1,),
    (sveltos.CLUSTER_PROFILE_V1BETA1,),
)
"""Every CRD kubetenancy serves, each as its versions (the last one is stored)."""


def crd_manifests() -> list[dict[str, Any]]:
    return [crd_manifest(list(versions)) for versions in SERVED_CRDS]


__all__ = ["SERVED_CRDS", "ServedKind", "crd_manifest", "crd_manifests"]
