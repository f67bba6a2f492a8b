"""An APIService backed by a tiny server receives the caller's identity in the front-proxy headers."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from kubetenancy.k8s import Kube, register_custom_resource
from kubetenancy.localcluster.controlplane import ControlPlane
from tests.support.https_server import serve_https
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

GROUP, VERSION = "widgets.kubetenancy.test", "v1alpha1"
SERVICE_HOST = "widgets-api.default.svc"


def widget_server(seen: list[dict[str, Any]]) -> web.Application:
    """Discovery plus an empty Widget list; records the identity headers of every list request."""

    async def discovery(_: web.Request) -> web.Response:
        return web.json_response(
            {
                "kind": "APIResourceList",
                "apiVersion": "v1",
                "groupVersion": f"{GROUP}/{VERSION}",
                "resources": [
                    {
                        "name": "widgets",
                        "singularName": "widget",
                        "namespaced": True,
                        "kind": "Widget",
                        "verbs": ["list"],
                    }
                ],
            }
        )

    async def widgets(request: web.Request) -> web.Response:
        seen.append(
            {
                "user": request.headers.get("X-Remote-User"),
                "groups": request.headers.getall("X-Remote-Group", []),
            }
        )
        return web.json_response(
            {"apiVersion": f"{GROUP}/{VERSION}", "kind": "WidgetList", "metadata": {}, "items": []}
        )

    app = web.Application()
    app.add_routes(
        [
            web.get(f"/apis/{GROUP}/{VERSION}", discovery),
            web.get(f"/apis/{GROUP}/{VERSION}/namespaces/{{ns}}/widgets", widgets),
        ]
    )
    return app


async def test_aggregated_server_sees_the_callers_identity(
    control_plane: ControlPlane, admin: Kube, user_client: Callable[[str], Kube], tmp_path: Path
) -> None:
    seen: list[dict[str, Any]] = []
    front_proxy_ca = control_plane.pki_dir / "front-proxy-ca.crt"
    hosts = ("127.0.0.1", "localhost", SERVICE_HOST)
    async with serve_https(widget_server(seen), tmp_path, hosts=hosts, client_ca=front_proxy_ca) as server:
        try:
            # An ExternalName Service lets the aggregator dial loopback, where the test server listens.
            await admin.apply(
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {"name": "widgets-api", "namespace": "default"},
                    "spec": {"type": "ExternalName", "externalName": "localhost"},
                }
            )
            await admin.apply(
                {
                    "apiVersion": "apiregistration.k8s.io/v1",
                    "kind": "APIService",
                    "metadata": {"name": f"{VERSION}.{GROUP}"},
                    "spec": {
                        "group": GROUP,
                        "version": VERSION,
                        "groupPriorityMinimum": 1000,
                        "versionPriority": 15,
                        "service": {"name": "widgets-api", "namespace": "default", "port": server.port},
                        "caBundle": base64.b64encode(server.ca_pem).decode(),
                    },
                }
            )
            await admin.apply(
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "ClusterRole",
                    "metadata": {"name": "widget-reader"},
                    "rules": [{"apiGroups": [GROUP], "resources": ["widgets"], "verbs": ["list"]}],
                }
            )
            await admin.apply(
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "ClusterRoleBinding",
                    "metadata": {"name": "widget-reader-bob"},
                    "roleRef": {
                        "apiGroup": "rbac.authorization.k8s.io",
                        "kind": "ClusterRole",
                        "name": "widget-reader",
                    },
                    "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "bob"}],
                }
            )

            async def available() -> bool:
                service = await admin.get("apiregistration.k8s.io/v1", "APIService", f"{VERSION}.{GROUP}")
                conditions = (service or {}).get("status", {}).get("conditions", [])
                return any(c["type"] == "Available" and c["status"] == "True" for c in conditions)

            await eventually(available)
            register_custom_resource(GROUP, VERSION, "Widget", "widgets", namespaced=True)
            assert await user_client("bob").list(f"{GROUP}/{VERSION}", "Widget", namespace="default") == []

        finally:
            # An APIService without a backend breaks discovery, and with it namespace deletion.
            await admin.delete("apiregistration.k8s.io/v1", "APIService", f"{VERSION}.{GROUP}")
            await admin.delete("v1", "Service", "widgets-api", "default")

    assert seen[-1]["user"] == "bob"
    assert "system:authenticated" in seen[-1]["groups"]
