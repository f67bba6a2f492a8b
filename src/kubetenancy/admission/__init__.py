"""Admission decisions as pure functions: (request, model) -> allow or deny with a message.

Rules never do I/O; the operator's webhook handlers fetch what a rule needs and call it.
"""

from kubetenancy.admission.decision import Decision, Request

__all__ = ["Decision", "Request"]
