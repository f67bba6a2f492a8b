"""Desired state: pure functions from the model to the Kubernetes objects that should exist. No I/O."""

from kubetenancy.desired.tenant import OwnerRef, content_hash, tenant_objects

__all__ = ["OwnerRef", "content_hash", "tenant_objects"]
