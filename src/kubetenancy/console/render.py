"""Server-side rendering with Jinja2: whole pages.

htmx re-fetches a page when a watch reports a change and swaps in only its live part (`hx-select="#live"`;
forms stay as the user left them), so htmx requests get the same page as any other. (Rendering the
`content` block alone would skip the template's top-level macro imports.) Templates are autoescaped;
nothing a user or the API server wrote is ever put into a page unescaped.
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
    return web.Response(text=page.render(values), status=status, content_type="text/html")
