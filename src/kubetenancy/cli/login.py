"""`kubectl tenancy login`: single sign-on for kubectl (authorization code flow with PKCE).

`login` listens on a loopback port for the provider's redirect, prints (and opens, unless
`--no-browser`) the login URL, exchanges the code, keeps the tokens in `~/.kube/cache/kubetenancy-oidc/`
(mode 0600) and writes a kubeconfig user whose `exec` credential plugin is `kubectl-tenancy oidc-token`:
that prints the cached ID token while it is valid and refreshes it with the refresh token when not, so
kubectl keeps working until the provider's session ends. Tokens are never printed except to kubectl.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import json
import os
import ssl
import sys
import webbrowser
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from aiohttp import web

from kubetenancy.console.oidc import OidcClient, OidcError, Tokens, expired

CACHE = Path.home() / ".kube" / "cache" / "kubetenancy-oidc"
EXEC_API = "client.authentication.k8s.io/v1"


def _cache_file(issuer: str, client_id: str) -> Path:
    digest = hashlib.sha256(f"{issuer}\n{client_id}".encode()).hexdigest()[:16]
    return Path(os.environ.get("KUBETENANCY_OIDC_CACHE", CACHE)) / f"{digest}.json"


def _save(path: Path, tokens: Tokens) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    record = {"id_token": tokens.id_token, "refresh_token": tokens.refresh_token, "expires_at": tokens.expires_at}
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(json.dumps(record))


def _context(ca_file: Path | None) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()


async def _authorize(client: OidcClient, port: int, open_browser: bool) -> Tokens:
    received: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()

    async def callback(request: web.Request) -> web.Response:
        if not received.done():
            received.set_result(dict(request.query))
        return web.Response(text="Logged in: you can close this window and return to kubectl.\n")

    app = web.Application()
    app.router.add_get("/callback", callback)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    bound = runner.addresses[0][1]
    redirect = f"http://127.0.0.1:{bound}/callback"
    try:
        start = await client.start(redirect)
        typer.echo(f"Open this URL to log in:\n\n  {start.url}\n", err=True)
        if open_browser:
            webbrowser.open(start.url)
        answer = await asyncio.wait_for(received, timeout=300)
        if answer.get("state") != start.state:
            raise OidcError("the login answer does not belong to this login (state mismatch)")
        if "error" in answer:
            raise OidcError(answer.get("error_description") or answer["error"])
        return await client.exchange(answer.get("code", ""), redirect, start.verifier, start.nonce)
    finally:
        await runner.cleanup()
        await client.close()


def _kubeconfig_path(explicit: Path | None) -> Path:
    if explicit:
        return explicit
    env = os.environ.get("KUBECONFIG")
    return Path(env.split(os.pathsep)[0]) if env else Path.home() / ".kube" / "config"


def _write_user(path: Path, user: str, exec_args: list[str]) -> str:
    """Add (or replace) `user` with the exec plugin and point the current context at it; returns the context."""
    config: dict[str, Any] = yaml.safe_load(path.read_text()) if path.exists() else {}
    current = config.get("current-context")
    contexts = config.setdefault("contexts", [])
    context = next((c for c in contexts if c.get("name") == current), None)
    if context is None:
        raise OidcError(f"{path} has no current context to log in to: set one with kubectl config use-context")
    users = [u for u in config.setdefault("users", []) if u.get("name") != user]
    command = {"apiVersion": EXEC_API, "command": "kubectl-tenancy", "args": exec_args, "interactiveMode": "Never"}
    users.append({"name": user, "user": {"exec": command}})
    config["users"] = users
    cluster = context["context"]["cluster"]
    name = f"{user}@{cluster}"
    contexts[:] = [c for c in contexts if c.get("name") != name] + [
        {"name": name, "context": {"cluster": cluster, "user": user}}
    ]
    config["current-context"] = name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)
    return name


def login(
    issuer: Annotated[str, typer.Option(help="The OIDC issuer (e.g. https://127.0.0.1:PORT/realms/kubetenancy).")],
    client_id: Annotated[str, typer.Option(help="The public client for kubectl.")] = "kubectl",
    ca_file: Annotated[Path | None, typer.Option(help="CA of the issuer (default: system CAs).")] = None,
    kubeconfig: Annotated[
        Path | None, typer.Option(help="Kubeconfig to write (default: $KUBECONFIG, ~/.kube/config).")
    ] = None,
    user: Annotated[str, typer.Option(help="Name of the kubeconfig user to write.")] = "oidc",
    port: Annotated[int, typer.Option(help="Loopback port for the redirect (0: any free port).")] = 0,
    browser: Annotated[bool, typer.Option(help="Open the login URL in a browser.")] = True,
) -> None:
    """Log in through the identity provider and make the current kubeconfig context use that login."""
    client = OidcClient(issuer, client_id, None, _context(ca_file))
    try:
        tokens = asyncio.run(_authorize(client, port, browser))
        _save(_cache_file(issuer, client_id), tokens)
        args = ["oidc-token", f"--issuer={issuer}", f"--client-id={client_id}"]
        if ca_file:
            args.append(f"--ca-file={ca_file.resolve()}")
        context = _write_user(_kubeconfig_path(kubeconfig), user, args)
    except (OidcError, TimeoutError) as error:
        typer.echo(f"error: login failed: {error or 'no answer from the browser within 300s'}", err=True)
        raise typer.Exit(1) from None
    name = tokens.claims.get("preferred_username") or tokens.claims.get("email") or tokens.claims.get("sub")
    typer.echo(f"Logged in as {name}; kubeconfig context {context} now uses it.", err=True)


def oidc_token(
    issuer: Annotated[str, typer.Option(help="The OIDC issuer.")],
    client_id: Annotated[str, typer.Option(help="The public client.")] = "kubectl",
    ca_file: Annotated[Path | None, typer.Option(help="CA of the issuer.")] = None,
) -> None:
    """(kubectl's exec credential plugin) Print an ExecCredential with a valid ID token, refreshing it if needed."""
    path = _cache_file(issuer, client_id)
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        typer.echo(f"error: not logged in to {issuer}: run `kubectl tenancy login --issuer {issuer}`", err=True)
        raise typer.Exit(1) from None
    tokens = Tokens(record["id_token"], record.get("refresh_token"), float(record["expires_at"]), {})
    if expired(tokens):
        if not tokens.refresh_token:
            typer.echo("error: the login has expired: run `kubectl tenancy login` again", err=True)
            raise typer.Exit(1)
        client = OidcClient(issuer, client_id, None, _context(ca_file))

        async def refresh() -> Tokens:
            try:
                return await client.refresh(str(tokens.refresh_token))
            finally:
                await client.close()

        try:
            tokens = asyncio.run(refresh())
        except OidcError as error:
            typer.echo(f"error: {error}: run `kubectl tenancy login` again", err=True)
            raise typer.Exit(1) from None
        _save(path, tokens)
    expires = datetime.datetime.fromtimestamp(tokens.expires_at, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    credential = {
        "apiVersion": EXEC_API,
        "kind": "ExecCredential",
        "status": {"token": tokens.id_token, "expirationTimestamp": expires},
    }
    sys.stdout.write(json.dumps(credential) + "\n")
