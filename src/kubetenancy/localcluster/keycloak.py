"""Keycloak, the local plane's identity provider: fetched from Maven Central, built once, run on loopback.

`ensure_keycloak()` fetches `org.keycloak:keycloak-quarkus-dist` with Maven, unpacks it and runs its
one-time `kc.sh build` (production mode, file database) and makes a blank database (schema and master
realm, from one start without our realm), all cached by version under the kubetenancy cache.
`prepare()` makes a site in a state directory: ports, TLS certificates (Keycloak's and the local
console's) from a CA of its own, random passwords and the realm import (`sso_realm.py`); `start()`
runs it from a hard-linked copy of the cached build (each site has its own `data/`, so two sites never
share a database or a transaction log) and `wait_ready()` waits for `/health/ready` on its management port.

`--cache=local` matters: without it Keycloak starts clustering and listens on non-loopback addresses.
This module runs Keycloak and writes files; it creates no Kubernetes objects.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import ssl
import subprocess
import zipfile
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

from kubetenancy import pki
from kubetenancy.localcluster import sso_realm
from kubetenancy.localcluster.processes import Process, free_port, http_ok, spawn, wait_until
from kubetenancy.localcluster.versions import cache_dir

KEYCLOAK_VERSION = "26.7.3"
"""Keycloak's newest release on Maven Central; runs on the machines' Temurin 25 (and on OpenJDK 17)."""
ARTIFACT = f"org.keycloak:keycloak-quarkus-dist:{KEYCLOAK_VERSION}:zip"
JAVA_HOMES = ("/usr/lib/jvm/temurin-25-jdk-amd64", "/usr/lib/jvm/java-17-openjdk-amd64")
READY_SECONDS = 300.0
NAME = "keycloak"


class KeycloakError(RuntimeError):
    """Keycloak could not be fetched or built; the message names the command and its output."""


def java_home() -> str:
    """`$JAVA_HOME`, else the machine's Temurin 25, else OpenJDK 17 (Keycloak 26 runs on both)."""
    explicit = os.environ.get("JAVA_HOME")
    if explicit:
        return explicit
    for candidate in JAVA_HOMES:
        if (Path(candidate) / "bin" / "java").exists():
            return candidate
    raise KeycloakError(
        "no Java runtime found: install a JDK >= 17 (e.g. apt-get install openjdk-17-jre) or set JAVA_HOME"
    )


def _run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise KeycloakError(
            f"`{' '.join(argv)}` failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )


def home_dir() -> Path:
    return cache_dir() / "keycloak" / f"keycloak-{KEYCLOAK_VERSION}"


def _ensure_build() -> Path:
    """The built Keycloak distribution (fetched and built the first time)."""
    home = home_dir()
    built = home / ".kubetenancy-built"
    if built.exists():
        return home
    downloads = cache_dir() / "keycloak" / "downloads"
    archive = downloads / f"keycloak-quarkus-dist-{KEYCLOAK_VERSION}.zip"
    if not archive.exists():
        if shutil.which("mvn") is None:
            raise KeycloakError("Maven (`mvn`) is needed to fetch Keycloak: apt-get install maven")
        downloads.mkdir(parents=True, exist_ok=True)
        _run(["mvn", "-q", "dependency:copy", f"-Dartifact={ARTIFACT}", f"-DoutputDirectory={downloads}"], downloads)
    partial_home = home.with_name(home.name + ".partial")
    shutil.rmtree(partial_home, ignore_errors=True)
    with zipfile.ZipFile(archive) as zipped:
        for member in zipped.infolist():
            target = Path(zipped.extract(member, partial_home))
            mode = member.external_attr >> 16
            if mode:
                target.chmod(mode & 0o777)
    (unpacked,) = partial_home.iterdir()
    env = {**os.environ, "JAVA_HOME": java_home()}
    _run([str(unpacked / "bin" / "kc.sh"), "build", "--db=dev-file", "--health-enabled=true"], unpacked, env)
    (unpacked / built.name).write_text(KEYCLOAK_VERSION)
    shutil.rmtree(home, ignore_errors=True)
    unpacked.rename(home)
    shutil.rmtree(partial_home)
    return home


def ensure_keycloak() -> Path:
    """The built Keycloak distribution, and its blank database, made the first time; returns its directory."""
    home = _ensure_build()
    if not _blank_database().exists():
        _make_blank_database(home)
    return home


@dataclass(frozen=True)
class Site:
    """One Keycloak of a state directory: where it listens, its CA and the realm's secrets."""

    directory: str
    port: int
    management_port: int
    passwords: dict[str, str]
    console_secret: str
    admin_password: str
    console_port: int
    """The port the local console is served on (Keycloak accepts its redirects only on a registered port)."""

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return sso_realm.issuer(self.base_url)

    @property
    def ca_file(self) -> Path:
        """The CA of Keycloak's and the local console's serving certificates."""
        return Path(self.directory) / "ca.crt"

    @property
    def console_url(self) -> str:
        return f"https://127.0.0.1:{self.console_port}"

    def authentication_configuration(self) -> dict[str, object]:
        return sso_realm.authentication_configuration(self.issuer, self.ca_file.read_text())

    def save(self) -> None:
        path = Path(self.directory) / "site.json"
        path.write_text(json.dumps(asdict(self), indent=2))
        path.chmod(0o600)

    @classmethod
    def load(cls, directory: Path) -> Site:
        return cls(**json.loads((directory / "site.json").read_text()))


def prepare(directory: Path) -> Site:
    """A new site in `directory`: ports (its own and the console's), TLS certificate, passwords and the
    realm import."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = pki.new_ca("kubetenancy-keycloak-ca")
    ca.write(directory, "ca")
    pki.issue(ca, "keycloak", hosts=("127.0.0.1", "localhost"), server=True).write(directory, "server")
    pki.issue(ca, "kubetenancy-console", hosts=("127.0.0.1", "localhost"), server=True).write(directory, "console")
    site = Site(
        directory=str(directory),
        port=free_port(),
        management_port=free_port(),
        passwords={user: secrets.token_urlsafe(12) for user in sso_realm.SSO_USERS},
        console_secret=secrets.token_urlsafe(24),
        admin_password=secrets.token_urlsafe(16),
        console_port=free_port(),
    )
    redirects = (f"https://127.0.0.1:{site.console_port}/*", f"https://localhost:{site.console_port}/*")
    realm = sso_realm.Realm(site.passwords, site.console_secret, redirects)
    secret = directory / "console-client-secret"
    secret.write_text(site.console_secret)
    secret.chmod(0o600)
    document = directory / "realm.json"
    document.write_text(json.dumps(sso_realm.realm_document(realm), indent=2))
    document.chmod(0o600)
    site.save()
    return site


def _blank_database() -> Path:
    return cache_dir() / "keycloak" / f"blank-database-{KEYCLOAK_VERSION}"


def _instance_home(site: Site, home: Path, *, import_realm: bool = True) -> Path:
    """A fresh hard-linked copy of the cached build; its `data/` holds a copy of the blank database (when
    made) and the realm import."""
    instance = Path(site.directory) / "home"
    shutil.rmtree(instance, ignore_errors=True)
    shutil.copytree(home, instance, copy_function=os.link)
    (instance / "data").mkdir()
    if _blank_database().exists():
        shutil.copytree(_blank_database(), instance / "data" / "h2")
    if import_realm:
        imports = instance / "data" / "import"
        imports.mkdir(parents=True)
        shutil.copyfile(Path(site.directory) / "realm.json", imports / f"{sso_realm.REALM}.json")
    return instance


def _spawn(site: Site, instance: Path, log: Path, *, import_realm: bool) -> Process:
    directory = Path(site.directory)
    env = {
        **os.environ,
        "JAVA_HOME": java_home(),
        # Only used when the master realm is created (the blank database), never afterwards.
        "KC_BOOTSTRAP_ADMIN_USERNAME": "admin",
        "KC_BOOTSTRAP_ADMIN_PASSWORD": site.admin_password,
        "JAVA_OPTS_APPEND": "-XX:TieredStopAtLevel=1",  # faster start, ample speed for a local IdP
    }
    # Run through /bin/sh, as kc.sh's own `#!` would: the process is then known by that executable.
    argv: list[str | Path] = [
        "/bin/sh", instance / "bin" / "kc.sh", "start", "--optimized", "--cache=local",
        f"--hostname={site.base_url}", "--http-host=127.0.0.1", "--http-enabled=false",
        f"--https-port={site.port}", f"--http-management-port={site.management_port}",
        f"--https-certificate-file={directory / 'server.crt'}",
        f"--https-certificate-key-file={directory / 'server.key'}",
        "--log-level=info,io.smallrye.health:warn",
    ]  # fmt: skip
    if import_realm:
        argv.append("--import-realm")
    return spawn(NAME, argv, log, env=env)


def _make_blank_database(home: Path) -> None:
    """Start Keycloak once without our realm and keep its database (schema and master realm): each site
    starts from a copy, which skips the slowest part of a first start."""
    scratch = cache_dir() / "keycloak" / "blank-database.partial"
    shutil.rmtree(scratch, ignore_errors=True)
    site = prepare(scratch / "site")
    instance = _instance_home(site, home, import_realm=False)
    process = _spawn(site, instance, scratch / "keycloak.log", import_realm=False)
    try:
        wait_ready(site, process, READY_SECONDS * 2)
    finally:
        process.stop(grace_seconds=60)
    shutil.copytree(instance / "data" / "h2", scratch / "h2")
    (scratch / "h2").rename(_blank_database())
    shutil.rmtree(scratch)


def start(site: Site, log: Path, home: Path | None = None) -> Process:
    """Start Keycloak for `site` (returns at once; see `wait_ready`), its database a copy of the blank one."""
    home = home or ensure_keycloak()
    return _spawn(site, _instance_home(site, home), log, import_realm=True)


def wait_ready(site: Site, process: Process, timeout: float = READY_SECONDS) -> None:
    wait_until(process, ready(site), timeout, "ready", interval=0.25)


def ready(site: Site) -> partial[bool]:
    """Whether the site's Keycloak answers its readiness probe."""
    context = ssl.create_default_context(cafile=site.ca_file)
    return partial(http_ok, f"https://127.0.0.1:{site.management_port}/health/ready", context)


def site_of(process: Process) -> Site:
    """The site a started Keycloak serves (its certificate lives in the site's directory)."""
    prefix = "--https-certificate-file="
    certificate = next(str(arg).removeprefix(prefix) for arg in process.argv if str(arg).startswith(prefix))
    return Site.load(Path(certificate).parent)
