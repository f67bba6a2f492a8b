"""The console as the operator deploys it when the IntegrationConfig says `components.console: true`. Pure.

MTO's names: Deployment and Service `tenant-operator-console` in the operator's namespace, and an
Ingress per configured host — `tenant-operator-console` (the console's host, or the consolidated
`ingress.host`), `tenant-operator-gateway` (served by the console too: it is its own gateway) and
`tenant-operator-keycloak` (routed to a Service of that name: a Keycloak the platform runs; kubetenancy
does not deploy one). With `console: false` (or no IntegrationConfig) the desired set is empty and the
applier prunes what was deployed, by label.

The console has no Kubernetes rights: its ServiceAccount mounts no token, and every API call carries the
logged-in user's token. Its OIDC settings come from the optional Secret `tenant-operator-console-oidc`
(`issuer`, `client-id`, `client-secret`, optionally `ca.crt`); without it only token login is offered.
It serves plain HTTP inside the cluster; the Ingress terminates TLS (the cookies are `Secure`).
"""

from __future__ import annotations

from typing import Any

from kubetenancy.component_model import ConsoleComponent, Route
from kubetenancy.model import MANAGED_BY

NAME = "tenant-operator-console"
GATEWAY = "tenant-operator-gateway"
KEYCLOAK = "tenant-operator-keycloak"
OIDC_SECRET = "tenant-operator-console-oidc"
IMAGE = "kubetenancy:latest"
"""The project's image (built by the local plane's image builder); one image runs every component."""
PORT = 8080
COMPONENT_LABEL = "kubetenancy.dev/component"
SELECTOR = {**MANAGED_BY, COMPONENT_LABEL: "console"}
KINDS: tuple[tuple[str, str], ...] = (
    ("apps/v1", "Deployment"),
    ("v1", "Service"),
    ("v1", "ServiceAccount"),
    ("networking.k8s.io/v1", "Ingress"),
)
Object = dict[str, Any]


def _meta(name: str, namespace: str) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": {**SELECTOR, "app.kubernetes.io/name": NAME}}


def _deployment(component: ConsoleComponent, namespace: str, image: str) -> Object:
    args = [
        "console", "run", "--addr=0.0.0.0", f"--port={PORT}", "--plain-http",
        "--api-server=https://kubernetes.default.svc", "--api-ca-file=/etc/kubetenancy/kube/ca.crt",
        f"--public-url={component.public_url or f'http://{NAME}'}", "--oidc-dir=/etc/kubetenancy/oidc",
    ]  # fmt: skip
    probe = {"httpGet": {"path": "/healthz", "port": PORT}}
    container = {
        "name": "console",
        "image": image,
        "args": args,
        "ports": [{"name": "http", "containerPort": PORT}],
        "readinessProbe": probe,
        "livenessProbe": probe,
        "resources": {"requests": {"cpu": "50m", "memory": "96Mi"}, "limits": {"memory": "256Mi"}},
        "securityContext": {
            "runAsNonRoot": True,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "kube-ca", "mountPath": "/etc/kubetenancy/kube", "readOnly": True},
            {"name": "oidc", "mountPath": "/etc/kubetenancy/oidc", "readOnly": True},
        ],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(NAME, namespace),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": NAME}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": NAME}},
                "spec": {
                    "serviceAccountName": NAME,
                    "automountServiceAccountToken": False,
                    "securityContext": {
                        "runAsUser": 65532,
                        "runAsGroup": 65532,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    "volumes": [
                        {"name": "kube-ca", "configMap": {"name": "kube-root-ca.crt"}},
                        {"name": "oidc", "secret": {"secretName": OIDC_SECRET, "optional": True}},
                    ],
                },
            },
        },
    }


def _ingress(name: str, namespace: str, where: Route, service: str, port: int | str, cls: str | None) -> Object:
    spec: dict[str, Any] = {
        "rules": [
            {
                "host": where.host,
                "http": {
                    "paths": [
                        {
                            "path": "/",
                            "pathType": "Prefix",
                            "backend": {
                                "service": {
                                    "name": service,
                                    "port": {"number": port} if isinstance(port, int) else {"name": port},
                                }
                            },
                        }
                    ]
                },
            }
        ]
    }
    if cls:
        spec["ingressClassName"] = cls
    if where.tls_secret:
        spec["tls"] = [{"hosts": [where.host], "secretName": where.tls_secret}]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": _meta(name, namespace), "spec": spec}


def ingresses(component: ConsoleComponent, namespace: str) -> list[Object]:
    wanted: list[tuple[str, Route | None, str, int | str]] = [
        (NAME, component.console, NAME, 80),
        (GATEWAY, component.gateway, NAME, 80),
        (KEYCLOAK, component.keycloak, KEYCLOAK, "https"),
    ]
    return [
        _ingress(name, namespace, where, service, port, component.ingress_class)
        for name, where, service, port in wanted
        if where is not None
    ]


def console_objects(component: ConsoleComponent | None, namespace: str, image: str = IMAGE) -> list[Object]:
    """Everything the console needs when enabled; nothing when not (the applier then prunes it)."""
    if component is None:
        return []
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(NAME, namespace),
        "spec": {
            "selector": {"app.kubernetes.io/name": NAME},
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        },
    }
    account = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _meta(NAME, namespace),
        "automountServiceAccountToken": False,
    }
    return [account, _deployment(component, namespace, image), service, *ingresses(component, namespace)]
