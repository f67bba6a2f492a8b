"""The images the project builds for its local nodes, from Debian's packages, cached by their inputs.

- `registry.k8s.io/pause:3.10`: Kubernetes' own `build/pause/linux/pause.c` (from the pinned release's
  module) linked statically with gcc; the sandbox image of every pod.
- `docker.io/library/nginx` (`latest` and Debian's version): Debian's nginx-light on port 80, logs to
  stdout and stderr, stopped with SIGQUIT, as the walkthroughs' `kubectl run nginx --image nginx` expects.
- `ghcr.io/kubetenancy/kubetenancy`: the project's wheel and its dependencies on Debian's python3, run as
  a non-root user.

Each image is one layer; its OCI layout lands in `<cache>/images/<name>-<hash of its inputs>/` only when
the build succeeded. Root filesystems come from `mmdebstrap` with a fixed `SOURCE_DATE_EPOCH`. This
module builds images; it pushes nothing (see `registry.py`).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubetenancy.localcluster.gobuild import KUBERNETES_NODE, module_source
from kubetenancy.localcluster.registry import Reference, gzip_layer, write_layout
from kubetenancy.localcluster.versions import cache_dir

DEBIAN_SUITE = "bookworm"
SOURCE_DATE_EPOCH = "1700000000"
NGINX_VERSION = "1.22.1"
"""Debian bookworm's nginx: the second tag of the nginx image."""


class ImageBuildError(RuntimeError):
    """An image could not be built; the message names the failing step."""


@dataclass(frozen=True)
class Recipe:
    """How one image is built, and what its cache key covers."""

    slug: str
    names: tuple[str, ...]
    inputs: str
    build: Callable[[Path], tuple[list[bytes], dict[str, Any]]]
    """Given a scratch directory: the layers (tars, bottom first) and the image config."""

    @property
    def layout(self) -> Path:
        digest = hashlib.sha256(self.inputs.encode()).hexdigest()[:16]
        return cache_dir() / "images" / f"{self.slug}-{digest}"

    @property
    def references(self) -> list[Reference]:
        return [Reference.parse(name) for name in self.names]


def _run(argv: list[str], what: str, **env: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **env}, check=False)
    if result.returncode != 0:
        raise ImageBuildError(f"{what} failed (`{' '.join(argv[:3])} …`):\n{result.stderr.strip()[-3000:]}")


def _tar_of_files(files: dict[str, tuple[bytes, int]]) -> bytes:
    """A reproducible tar of `{path: (content, mode)}` (owner root, time zero)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, (content, mode) in sorted(files.items()):
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(content), mode, 0
            tar.addfile(info, io.BytesIO(content))
    return out.getvalue()


def _pause(scratch: Path) -> tuple[list[bytes], dict[str, Any]]:
    source = module_source(KUBERNETES_NODE) / "build" / "pause" / "linux" / "pause.c"
    binary = scratch / "pause"
    _run(["gcc", "-Os", "-Wall", "-static", "-DVERSION=v3.10", "-o", str(binary), str(source)], "compiling pause")
    _run(["strip", str(binary)], "stripping pause")
    config = {"Entrypoint": ["/pause"], "User": "65535:65535"}
    return [_tar_of_files({"pause": (binary.read_bytes(), 0o755)})], config


def _debian_rootfs(scratch: Path, packages: list[str], hooks: list[str]) -> bytes:
    """`mmdebstrap --variant=essential` of Debian's `packages` as a tar (apt caches and lists left out)."""
    if shutil.which("mmdebstrap") is None:
        raise ImageBuildError("mmdebstrap is missing: run `apt-get install -y mmdebstrap` (as root)")
    rootfs = scratch / "rootfs.tar"
    argv = ["mmdebstrap", "--quiet", "--variant=essential", f"--include={','.join(packages)}"]
    argv += [f"--customize-hook={hook}" for hook in hooks]
    argv += ['--customize-hook=rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*', DEBIAN_SUITE, str(rootfs)]
    _run(argv, "mmdebstrap", SOURCE_DATE_EPOCH=SOURCE_DATE_EPOCH)
    return rootfs.read_bytes()


def _nginx(scratch: Path) -> tuple[list[bytes], dict[str, Any]]:
    hooks = [
        'ln -sf /dev/stdout "$1"/var/log/nginx/access.log',
        'ln -sf /dev/stderr "$1"/var/log/nginx/error.log',
    ]
    config = {
        "Cmd": ["nginx", "-g", "daemon off;"],
        "ExposedPorts": {"80/tcp": {}},
        "StopSignal": "SIGQUIT",
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    }
    return [_debian_rootfs(scratch, ["nginx-light"], hooks)], config


PAUSE = Recipe("pause", ("registry.k8s.io/pause:3.10",), "pause.c of kubernetes v1.36.3; gcc -Os -static", _pause)
NGINX = Recipe(
    "nginx",
    ("docker.io/library/nginx:latest", f"docker.io/library/nginx:{NGINX_VERSION}"),
    f"mmdebstrap essential {DEBIAN_SUITE} nginx-light; logs to stdio; SIGQUIT",
    _nginx,
)
NODE_IMAGES = (PAUSE, NGINX)
"""What every node needs: its sandbox image and the walkthroughs' nginx."""
PROJECT_DIR = Path(__file__).resolve().parents[3]
KUBETENANCY_USER = "65532:65532"


def _project_inputs() -> str:
    """The project's sources (what its wheel is built from), as a digest."""
    digest = hashlib.sha256()
    for path in sorted([PROJECT_DIR / "pyproject.toml", *(PROJECT_DIR / "src").rglob("*.py")]):
        digest.update(path.relative_to(PROJECT_DIR).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _kubetenancy(scratch: Path) -> tuple[list[bytes], dict[str, Any]]:
    if not (PROJECT_DIR / "pyproject.toml").exists():
        raise ImageBuildError(f"the kubetenancy image is built from a source checkout; {PROJECT_DIR} is not one")
    wheels, target = scratch / "wheels", scratch / "app" / "opt" / "kubetenancy"
    pip = [sys.executable, "-m", "pip", "--quiet", "--disable-pip-version-check"]
    _run([*pip, "wheel", "--no-deps", "--wheel-dir", str(wheels), str(PROJECT_DIR)], "building the wheel")
    wheel = next(wheels.glob("kubetenancy-*.whl"))
    # Debian bookworm's python3 is 3.11, as the wheels' tags must match.
    _run([*pip, "install", "--no-compile", "--python-version", "3.11", "--only-binary=:all:", "--target",
          str(target), str(wheel)], "installing the wheel and its dependencies")  # fmt: skip
    base = _debian_rootfs(scratch, ["python3", "ca-certificates"], [])
    config = {
        "Entrypoint": ["python3", "-m", "kubetenancy"],
        "User": KUBETENANCY_USER,
        "Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "PYTHONPATH=/opt/kubetenancy", "PYTHONDONTWRITEBYTECODE=1"],
    }
    files = {
        str(path.relative_to(scratch / "app")): (path.read_bytes(), 0o755 if os.access(path, os.X_OK) else 0o644)
        for path in (scratch / "app").rglob("*")
        if path.is_file()
    }
    return [base, _tar_of_files(files)], config


def kubetenancy_image() -> Recipe:
    """The project's image, keyed by its sources."""
    return Recipe(
        "kubetenancy",
        ("ghcr.io/kubetenancy/kubetenancy:latest",),
        f"mmdebstrap essential {DEBIAN_SUITE} python3; wheel of sources {_project_inputs()}; user {KUBETENANCY_USER}",
        _kubetenancy,
    )


def all_images() -> list[Recipe]:
    return [*NODE_IMAGES, kubetenancy_image()]


def ensure(recipe: Recipe) -> Path:
    """The recipe's OCI layout, built first if it is not cached."""
    if (recipe.layout / "index.json").exists():
        return recipe.layout
    recipe.layout.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=recipe.layout.parent) as scratch:
        layers, config = recipe.build(Path(scratch))
        layout = Path(scratch) / "layout"
        image_config = {"architecture": "amd64", "os": "linux", "config": config, "created": "2023-11-14T22:13:20Z"}
        write_layout(layout, image_config, [gzip_layer(layer) for layer in layers])
        os.replace(layout, recipe.layout)
    return recipe.layout


def describe(recipe: Recipe) -> dict[str, Any]:
    """What `dev images list` shows of a built image."""
    index = json.loads((recipe.layout / "index.json").read_text())
    return {"names": recipe.names, "digest": index["manifests"][0]["digest"], "layout": str(recipe.layout)}
