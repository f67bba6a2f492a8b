"""Which tenant a namespace belongs to, by its labels. Pure.

Each API has its own label (Kiosk's `kiosk.sh/account`, MTO's `stakater.com/tenant`) and kubetenancy
keeps its own (`kubetenancy.dev/tenant`) on every tenant namespace. The APIs' labels are what people set
to hand a namespace to a tenant, so they decide; kubetenancy's label counts only when neither is there.
One owner per namespace, so two tenants never fight over one.
"""

from __future__ import annotations

from collections.abc import Mapping

from kubetenancy.api.kiosk import ACCOUNT_LABEL
from kubetenancy.frontdoors.tenantoperator import MTO_TENANT_LABEL
from kubetenancy.model import TENANT_LABEL

CLAIM_LABELS = (ACCOUNT_LABEL, MTO_TENANT_LABEL, TENANT_LABEL)


def namespace_owner(labels: Mapping[str, str]) -> str | None:
    return next((labels[key] for key in CLAIM_LABELS if labels.get(key)), None)
