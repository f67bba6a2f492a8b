"""The console in a real browser: headless Chromium (Debian's) driven by Playwright, logging in through
Keycloak's own login form, against the real control plane, operator and aggregated API server.

Screenshots of every page land in test-artifacts/console/.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from kubetenancy.console.sessions import SESSION_COOKIE
from kubetenancy.localcluster.console_site import start_console
from kubetenancy.localcluster.controlplane import ControlPlane
from kubetenancy.localcluster.keycloak import Site
from kubetenancy.localcluster.processes import free_port
from tests.support.kubectl import Kubectl
from tests.support.sso import ARTIFACTS, CHROMIUM, chromium_args

pytestmark = pytest.mark.e2e
EXAMPLES = Path(__file__).parents[2] / "examples" / "mto-eks-tenants"
VENV_BIN = Path(sys.executable).parent
PAGES = ("/", "/tenants", "/namespaces", "/quotas", "/templateinstances", "/kiosk", "/rolerequests")


@pytest.fixture(scope="module")
def console_url(
    operator: str,
    apiserver: object,
    sso: Site,
    control_plane: ControlPlane,
    kubectl: Kubectl,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """The seed's tenants (logistics for falcon, retail for bear) and the console serving them."""
    for manifest in ("quota.yaml", "tenants.yaml"):
        kubectl.ok("apply", "-f", EXAMPLES / manifest)
    kubectl.ok("wait", "--for=condition=Ready", "tenant/logistics", "tenant/retail", "--timeout=60s")
    process = start_console(control_plane.cluster(), sso, tmp_path_factory.mktemp("console") / "console.log")
    yield sso.console_url
    process.stop()


@pytest.fixture(scope="module")
def browser(sso: Site) -> Iterator[Browser]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=chromium_args(sso), headless=True)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    fresh = browser.new_context(viewport={"width": 1280, "height": 900})
    yield fresh
    fresh.close()


def sso_login(page: Page, url: str, site: Site, user: str) -> None:
    """Log in as a person does: the console's button, then Keycloak's own form."""
    page.goto(f"{url}/")
    expect(page).to_have_url(re.compile(r"/login"))
    page.click("#sso-login")
    expect(page.locator("#kc-login")).to_be_visible()
    page.fill("#username", user)
    page.fill("#password", site.passwords[user])
    page.click("#kc-login")
    page.wait_for_url(f"{url}/", timeout=90_000)
    expect(page.locator(".who")).to_have_text(user)


def shoot(page: Page, name: str) -> None:
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def test_falcon_sees_logistics_and_not_retail(console_url: str, sso: Site, context: BrowserContext) -> None:
    page = context.new_page()
    sso_login(page, console_url, sso, "falcon@nordmart.com")
    expect(page.locator('#my-tenants [data-tenant="logistics"]')).to_be_visible()
    expect(page.locator('[data-tenant="retail"]')).to_have_count(0)
    expect(page.locator("#cost-trend")).to_be_visible()
    for path in PAGES:
        page.goto(f"{console_url}{path}")
        assert "retail" not in page.content(), path
        shoot(page, f"falcon{path.replace('/', '-') or '-dashboard'}".rstrip("-"))
    page.goto(f"{console_url}/namespaces")
    names = page.locator("#namespaces [data-namespace]").evaluate_all("rows => rows.map(r => r.dataset.namespace)")
    assert set(names) >= {"logistics-dev", "logistics-build"}
    assert not any(n.startswith("retail") for n in names)
    page.goto(f"{console_url}/tenants/logistics")
    expect(page.locator("#tenant-namespaces")).to_contain_text("logistics-dev")
    shoot(page, "falcon-tenant-logistics")
    page.goto(f"{console_url}/tenants/retail")
    expect(page.locator("[role=alert]")).to_be_visible()
    assert "bear@nordmart.com" not in page.content()


def test_bear_sees_retail_and_not_logistics(console_url: str, sso: Site, context: BrowserContext) -> None:
    page = context.new_page()
    sso_login(page, console_url, sso, "bear@nordmart.com")
    expect(page.locator('#my-tenants [data-tenant="retail"]')).to_be_visible()
    assert "logistics" not in page.content()
    shoot(page, "bear-dashboard")


def test_the_admin_sees_every_tenant(console_url: str, sso: Site, context: BrowserContext) -> None:
    page = context.new_page()
    sso_login(page, console_url, sso, "mto")
    for tenant in ("logistics", "retail"):
        expect(page.locator(f'#my-tenants [data-tenant="{tenant}"]')).to_be_visible()
    shoot(page, "admin-dashboard")
    for path in PAGES[1:]:
        page.goto(f"{console_url}{path}")
        shoot(page, f"admin{path.replace('/', '-')}")
    page.goto(f"{console_url}/tenants")
    expect(page.locator('#tenants [data-tenant="retail"]')).to_be_visible()


def test_the_dashboard_follows_a_quota_change_without_a_reload(
    console_url: str, sso: Site, context: BrowserContext, kubectl: Kubectl
) -> None:
    page = context.new_page()
    sso_login(page, console_url, sso, "falcon@nordmart.com")
    used = page.locator('#my-tenants [data-tenant="logistics"] tr[data-resource="configmaps"] td:nth-child(2)')
    expect(used).to_be_visible()
    before = int(used.inner_text())
    page.evaluate("window.notReloaded = true")
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    kubectl.ok("create", "configmap", "console-live", "-n", "logistics-dev", "--from-literal=a=b")
    try:
        # The quota controller counts it, the ResourceQuota's watch tells the page, htmx redraws it.
        expect(used).to_have_text(str(before + 1), timeout=30_000)
        assert page.evaluate("window.notReloaded") is True, "the page was redrawn in place, not reloaded"
        assert errors == []
        shoot(page, "falcon-dashboard-live")
    finally:
        kubectl.ok("delete", "configmap", "console-live", "-n", "logistics-dev")


def test_an_owner_creates_a_namespace_and_sees_the_webhooks_refusal(
    console_url: str, sso: Site, context: BrowserContext, kubectl: Kubectl
) -> None:
    page = context.new_page()
    sso_login(page, console_url, sso, "falcon@nordmart.com")
    page.goto(f"{console_url}/namespaces")
    page.select_option("#create-namespace select[name=tenant]", "logistics")
    page.fill("#create-namespace input[name=name]", "logistics-qa")
    page.click("#create-namespace button[type=submit]")
    expect(page.locator("#created")).to_contain_text("logistics-qa")
    expect(page.locator('[data-namespace="logistics-qa"]')).to_be_visible()
    assert (
        kubectl.ok("get", "namespace", "logistics-qa", "-o", "jsonpath={.metadata.labels.stakater\\.com/tenant}")
        == "logistics"
    )
    # The form offers only falcon's tenants; a hand-edited form asking for retail's reaches the webhook.
    page.evaluate("document.querySelector('#create-namespace select[name=tenant] option').value = 'retail'")
    page.fill("#create-namespace input[name=name]", "retail-by-falcon")
    page.click("#create-namespace button[type=submit]")
    refusal = page.locator("#create-error")
    expect(refusal).to_contain_text('admission webhook "namespaces.kubetenancy.dev" denied the request')
    expect(refusal).to_contain_text('does not own tenant "retail"')
    shoot(page, "falcon-namespace-refused")
    assert kubectl("get", "namespace", "retail-by-falcon")[0] != 0


def test_an_owner_applies_a_template_and_sees_it_deployed_live(
    console_url: str, sso: Site, context: BrowserContext, kubectl: Kubectl
) -> None:
    template = """
apiVersion: tenantoperator.stakater.com/v1alpha1
kind: Template
metadata: {name: console-settings}
resources:
  manifests:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: console-settings}
    data: {tenant: "${tenant}"}
"""
    code, output = kubectl("apply", "-f", "-", stdin=template)
    assert code == 0, output
    page = context.new_page()
    sso_login(page, console_url, sso, "falcon@nordmart.com")
    page.goto(f"{console_url}/templateinstances")
    # Owners hold TemplateInstances in their namespaces (aggregated into `admin`); a hand-edited form
    # naming another tenant's namespace gets the API server's own refusal.
    page.evaluate("document.querySelector('#apply-template select[name=namespace] option').value = 'retail-dev'")
    page.select_option("#apply-template select[name=namespace]", "retail-dev")
    page.fill("#apply-template input[name=template]", "console-settings")
    page.click("#apply-template button[type=submit]")
    expect(page.locator("#apply-error")).to_contain_text(
        'User "falcon@nordmart.com" cannot create resource "templateinstances" in API group '
        '"tenantoperator.stakater.com" in the namespace "retail-dev"'
    )
    shoot(page, "falcon-template-refused")
    page.select_option("#apply-template select[name=namespace]", "logistics-dev")
    page.fill("#apply-template input[name=template]", "console-settings")
    page.click("#apply-template button[type=submit]")
    expect(page.locator("#created")).to_contain_text("logistics-dev/console-settings")
    page.goto(f"{console_url}/templateinstances")
    expect(page.locator("#instances")).to_contain_text("Deployed", timeout=60_000)
    shoot(page, "falcon-template-deployed")
    assert (
        kubectl.ok("get", "configmap", "console-settings", "-n", "logistics-dev", "-o", "jsonpath={.data.tenant}")
        == "logistics"
    )


def test_logout_ends_the_session_and_its_cookie_is_worthless(
    console_url: str, sso: Site, context: BrowserContext
) -> None:
    page = context.new_page()
    sso_login(page, console_url, sso, "falcon@nordmart.com")
    cookie = next(c for c in context.cookies() if c["name"] == SESSION_COOKIE)
    assert cookie["httpOnly"]
    assert cookie["secure"]
    assert cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie") == ""  # nothing for the page's JavaScript
    page.click("#logout")
    expect(page.locator("#logged-out")).to_be_visible(timeout=30_000)  # through the provider's logout
    shoot(page, "logged-out")
    context.add_cookies([{**cookie}])  # the old session's cookie, replayed
    page.goto(f"{console_url}/")
    expect(page).to_have_url(re.compile(r"/login"))
    assert "logistics" not in page.content()


def test_a_forged_cookie_shows_nothing(console_url: str, context: BrowserContext) -> None:
    host = console_url.split("://", 1)[1].split(":")[0]
    context.add_cookies(
        [{"name": SESSION_COOKIE, "value": secrets.token_urlsafe(32), "domain": host, "path": "/", "secure": True}]
    )
    page = context.new_page()
    page.goto(f"{console_url}/tenants")
    expect(page).to_have_url(re.compile(r"/login\?next=/tenants"))
    assert "logistics" not in page.content()
    assert "retail" not in page.content()


class _Attacker(BaseHTTPRequestHandler):
    target = ""

    def do_GET(self) -> None:
        page = (
            f'<form id="f" method="post" action="{self.target}/namespaces">'
            '<input name="name" value="evil-ns"><input name="tenant" value="logistics"></form>'
            "<script>document.getElementById('f').submit()</script>"
        )
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(page.encode())

    def log_message(self, *_: object) -> None:
        pass


def test_a_cross_site_form_post_is_refused(
    console_url: str, sso: Site, context: BrowserContext, kubectl: Kubectl
) -> None:
    page = context.new_page()
    sso_login(page, console_url, sso, "falcon@nordmart.com")
    _Attacker.target = console_url
    server = HTTPServer(("127.0.0.1", free_port()), _Attacker)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        # localhost and 127.0.0.1 are different sites: this is another site's page posting to the console.
        page.goto(f"http://localhost:{server.server_port}/")
        expect(page.locator("body")).to_contain_text("Forbidden", timeout=15_000)
        shoot(page, "cross-site-post-refused")
    finally:
        server.shutdown()
    assert kubectl("get", "namespace", "evil-ns")[0] != 0


def test_token_login_and_session_expiry(
    sso: Site, control_plane: ControlPlane, context: BrowserContext, tmp_path: Path, apiserver: object
) -> None:
    """For clusters without OIDC: a bearer token (here falcon's static token); an idle session expires."""
    port = free_port()
    process = start_console(
        control_plane.cluster(), sso, tmp_path / "console.log", port=port, extra=("--idle-seconds=3",)
    )
    url = f"https://127.0.0.1:{port}"
    try:
        page = context.new_page()
        page.goto(f"{url}/")
        page.click("summary")
        page.fill("input[name=token]", control_plane.tokens["falcon@nordmart.com"])
        page.click("#token-login")
        page.wait_for_url(f"{url}/", timeout=90_000)
        expect(page.locator('#my-tenants [data-tenant="logistics"]')).to_be_visible()
        assert control_plane.tokens["falcon@nordmart.com"] not in page.content()
        shoot(page, "token-login-dashboard")
        time.sleep(4)  # idle longer than --idle-seconds
        page.goto(f"{url}/")
        expect(page).to_have_url(re.compile(r"/login"))
        page.goto(f"{url}/")
        page.click("summary")
        page.fill("input[name=token]", "not-a-token")
        page.click("#token-login")
        expect(page.locator("#login-error")).to_contain_text("Unauthorized")
    finally:
        process.stop()


@pytest.mark.usefixtures("console_url")  # the seed's tenants
def test_kubectl_tenancy_login_through_keycloak_gives_kubectl_the_users_identity(
    sso: Site, context: BrowserContext, kubectl: Kubectl, tmp_path: Path
) -> None:
    """The authorization code flow with PKCE as a person runs it: the CLI prints the URL, Keycloak's form
    is filled in the browser, the CLI's loopback callback gets the code, and kubectl then acts as falcon
    through the exec plugin that the login wrote."""
    kubeconfig = tmp_path / "config"
    shutil.copy(kubectl.cluster.kubeconfig(), kubeconfig)
    env = {
        **os.environ,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",  # kubectl runs the plugin by name
        "KUBETENANCY_OIDC_CACHE": str(tmp_path / "oidc-cache"),
    }
    login = subprocess.Popen(
        [VENV_BIN / "kubectl-tenancy", "login", f"--issuer={sso.issuer}", f"--ca-file={sso.ca_file}",
         f"--kubeconfig={kubeconfig}", "--no-browser"],
        stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert login.stderr is not None
        url = next(line.strip() for line in login.stderr if line.strip().startswith("https://"))
        page = context.new_page()
        page.goto(url)
        page.fill("#username", "falcon@nordmart.com")
        page.fill("#password", sso.passwords["falcon@nordmart.com"])
        page.click("#kc-login")
        expect(page.locator("body")).to_contain_text("Logged in: you can close this window")
        _, rest = login.communicate(timeout=60)
    finally:
        login.kill()
    assert login.returncode == 0, rest
    assert "Logged in as falcon@nordmart.com; kubeconfig context oidc@" in rest
    assert "eyJ" not in rest, "no token is printed"

    def as_logged_in(*args: str) -> subprocess.CompletedProcess[str]:
        command = [str(kubectl.binaries.kubectl), f"--kubeconfig={kubeconfig}", *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, check=False, timeout=60)

    whoami = as_logged_in("auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
    assert whoami.stdout == "falcon@nordmart.com", whoami.stderr
    assert as_logged_in("get", "configmaps", "-n", "logistics-dev").returncode == 0
    refused = as_logged_in("get", "configmaps", "-n", "retail-dev")
    assert 'User "falcon@nordmart.com" cannot list resource "configmaps"' in refused.stderr
