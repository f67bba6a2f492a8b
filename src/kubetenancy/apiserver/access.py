"""Whether a caller may do something cluster-wide, asked of the API server (SubjectAccessReview).

Answers are kept for a few seconds per (user, groups, verb, resource), so a list or a watch costs at
most one review, and a burst of requests by one user costs one.
"""

from __future__ import annotations

import time

from kubetenancy.apiserver.visibility import Caller
from kubetenancy.k8s.passthrough import Passthrough

TTL_SECONDS = 5.0
Key = tuple[str, tuple[str, ...], str, str, str, str]


class AccessReviews:
    def __init__(self, api: Passthrough) -> None:
        self.api = api
        self._answers: dict[Key, tuple[float, bool]] = {}

    async def allowed(self, caller: Caller, verb: str, group: str, resource: str, *, name: str = "") -> bool:
        key = (caller.user, caller.groups, verb, group, resource, name)
        now = time.monotonic()
        cached = self._answers.get(key)
        if cached is not None and now - cached[0] < TTL_SECONDS:
            return cached[1]
        attributes = {"verb": verb, "group": group, "resource": resource}
        if name:
            attributes["name"] = name
            if resource == "namespaces":
                attributes["namespace"] = name  # a namespace's own RoleBindings may grant rights on it
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {"user": caller.user, "groups": list(caller.groups), "resourceAttributes": attributes},
        }
        code, answer = await self.api.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body=review)
        allowed = code == 201 and bool((answer.get("status") or {}).get("allowed"))
        self._answers[key] = (now, allowed)
        if len(self._answers) > 10_000:
            self._answers = {k: v for k, v in self._answers.items() if now - v[0] < TTL_SECONDS}
        return allowed
