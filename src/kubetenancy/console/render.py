"""Server-side rendering with Jinja2: whole pages, or only their `content` block for htmx requests.

htmx re-fetches a page's live part (`#live`) when a watch reports a change, so a request with
`HX-Request` gets the `content` block alone (htmx picks `#live` out of it; forms stay as the user left
them). Templates are autoescaped; nothing a user or
the API server wrote is ever put into a page unescaped.
"""

from __future__ import annotations

from typing import Any

import jinja2
import yaml
from aiohttp import web

from kubetenancy.k8s.passthrough import Passthrough

API: web.AppKey[Passthrough] = web.AppKey("api", Passthrough)
ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("kubetenancy.console", "templates"),
    autoescape=True,
    undefined=jinja2.ChainableUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def to_yaml(obj: Any) -> str:
    """An object as `kubectl get -o yaml` shows it, without managedFields."""
    if isinstance(obj, dict) and isinstance(obj.get("metadata"), dict):
        obj = {**obj, "metadata": {k: v for k, v in obj["metadata"].items() if k != "managedFields"}}
    return yaml.safe_dump(obj, sort_keys=False)


ENVIRONMENT.filters["yaml"] = to_yaml


def render(request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
    page = ENVIRONMENT.get_template(template)
    session = request.get("session")
    values = {
        "session": session,
        "csrf": session.csrf if session else "",
        "path": request.path,
        "path_qs": request.path_qs,
        **context,
    }
    if request.headers.get("HX-Request") and "content" in page.blocks:
        body = "".join(page.blocks["content"](page.new_context(values)))
    else:
        body = page.render(values)
    return web.Response(text=body, status=status, content_type="text/html")
