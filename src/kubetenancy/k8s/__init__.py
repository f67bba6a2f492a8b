"""All I/O with Kubernetes API servers: nothing outside this package imports a Kubernetes client."""

from kubetenancy.k8s import applier
from kubetenancy.k8s.client import (
    CONFIG_ERRORS,
    FIELD_MANAGER,
    RETRYABLE_ERRORS,
    ApiError,
    Identity,
    Kube,
    Object,
    explain,
    register_custom_resource,
)
from kubetenancy.k8s.crds import ensure_crds

__all__ = [
    "CONFIG_ERRORS",
    "FIELD_MANAGER",
    "RETRYABLE_ERRORS",
    "ApiError",
    "Identity",
    "Kube",
    "Object",
    "applier",
    "ensure_crds",
    "explain",
    "register_custom_resource",
]
