"""The local OCI registry (distribution v3) that the nodes pull every image from, and pushing images to it.

One registry per plane listens on 127.0.0.1; nodes reach it through their forwarder. Images keep the
names users give them: `nginx` is `docker.io/library/nginx:latest`, stored as the repository
`docker.io/library/nginx` (containerd's mirror configuration adds the registry's name as a prefix), so
images of different registries never mix. Images are read from OCI layouts (directories) or from OCI
and `docker save` archives. This module talks HTTP to the local registry only.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import tarfile
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from kubetenancy.localcluster.nodeconfig import MIRRORED_REGISTRIES
from kubetenancy.localcluster.processes import Process, http_ok, spawn, wait_until

REGISTRY = "registry"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"


class ImageError(ValueError):
    """An image name or archive that cannot be stored; the message says why and what to do."""


@dataclass(frozen=True)
class Reference:
    """An image name split as containerd splits it (`nginx` → docker.io, library/nginx, latest)."""

    registry: str
    path: str
    tag: str

    @classmethod
    def parse(cls, name: str) -> Reference:
        rest, _, tag = name.rpartition(":") if ":" in name.rsplit("/", 1)[-1] else (name, "", "latest")
        first, _, remainder = rest.partition("/")
        if remainder and ("." in first or ":" in first or first == "localhost"):
            registry, path = first, remainder
        else:
            registry, path = "docker.io", rest
        if registry == "docker.io" and "/" not in path:
            path = f"library/{path}"
        if registry not in MIRRORED_REGISTRIES:
            raise ImageError(
                f'image "{name}": the local nodes pull only from {", ".join(MIRRORED_REGISTRIES)} (all served '
                "by the local registry); name the image under one of them"
            )
        return cls(registry, path, tag or "latest")

    @property
    def repository(self) -> str:
        """The repository in the local registry."""
        return f"{self.registry}/{self.path}"

    def __str__(self) -> str:
        return f"{self.registry}/{self.path}:{self.tag}"


def registry_config(storage: Path, port: int) -> str:
    return "\n".join(
        [
            "version: 0.1",
            "log:",
            "  level: warn",
            "  accesslog:",
            "    disabled: true",
            "storage:",
            "  filesystem:",
            f"    rootdirectory: {storage}",
            "  delete:",
            "    enabled: true",
            "http:",
            f"  addr: 127.0.0.1:{port}",
            "",
        ]
    )


def start(binary: Path, state_dir: Path, port: int) -> Process:
    """Run the registry on 127.0.0.1:`port`, storing images in the state directory, until it answers."""
    config = state_dir / "registry" / "config.yml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(registry_config(state_dir / "registry" / "storage", port))
    process = spawn(REGISTRY, [binary, "serve", config], state_dir / "logs" / "registry.log")
    wait_until(process, partial(http_ok, f"http://127.0.0.1:{port}/v2/"), 30, "serving")
    return process


def _request(method: str, url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    return urllib.request.urlopen(request, timeout=120)


def _exists(url: str, headers: dict[str, str] | None = None) -> bool:
    try:
        with _request("HEAD", url, headers=headers):
            return True
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return False
        raise


def _has_blob(base: str, repository: str, digest: str) -> bool:
    return _exists(f"{base}/v2/{repository}/blobs/{digest}")


def has_image(base: str, repository: str, tag_or_digest: str) -> bool:
    """Whether the local registry holds a manifest (single image or index) for the name."""
    accept = ", ".join((OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST))
    return _exists(f"{base}/v2/{repository}/manifests/{tag_or_digest}", {"Accept": accept})


def _push_blob(base: str, repository: str, digest: str, path: Path) -> None:
    if _has_blob(base, repository, digest):
        return
    with _request("POST", f"{base}/v2/{repository}/blobs/uploads/", b"") as response:
        location = response.headers["Location"]
    if location.startswith("/"):
        location = base + location
    separator = "&" if "?" in location else "?"
    size = str(path.stat().st_size)
    headers = {"Content-Type": "application/octet-stream", "Content-Length": size}
    with _request("PUT", f"{location}{separator}digest={digest}", path.read_bytes(), headers):
        pass


def _blob(layout: Path, digest: str) -> Path:
    algorithm, hex_digest = digest.split(":", 1)
    return layout / "blobs" / algorithm / hex_digest


def push_layout(base: str, layout: Path, reference: Reference) -> str:
    """Push the (single-platform) image of an OCI layout under `reference`; return its manifest digest."""
    index = json.loads((layout / "index.json").read_text())
    descriptor = index["manifests"][0]
    manifest_bytes = _blob(layout, descriptor["digest"]).read_bytes()
    manifest = json.loads(manifest_bytes)
    if "manifests" in manifest:
        raise ImageError(f"{layout}: a multi-platform index; load a single-platform (linux/amd64) image")
    for blob in [manifest["config"], *manifest["layers"]]:
        _push_blob(base, reference.repository, blob["digest"], _blob(layout, blob["digest"]))
    media_type = manifest.get("mediaType", descriptor.get("mediaType", OCI_MANIFEST))
    with _request(
        "PUT",
        f"{base}/v2/{reference.repository}/manifests/{reference.tag}",
        manifest_bytes,
        {"Content-Type": media_type},
    ):
        pass
    return str(descriptor["digest"])


def write_blob(layout: Path, data: bytes) -> dict[str, Any]:
    """Store `data` in an OCI layout; return its descriptor (without media type)."""
    digest = hashlib.sha256(data).hexdigest()
    path = layout / "blobs" / "sha256" / digest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def write_layout(layout: Path, config: dict[str, Any], layers: list[tuple[bytes, str, str]]) -> None:
    """An OCI layout of one image: `layers` are (blob, media type, diff id) from the bottom up."""
    config = {**config, "rootfs": {"type": "layers", "diff_ids": [diff for _, _, diff in layers]}}
    config_descriptor = write_blob(layout, json.dumps(config, sort_keys=True).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, **config_descriptor},
        "layers": [{"mediaType": media, **write_blob(layout, blob)} for blob, media, _ in layers],
    }
    manifest_descriptor = write_blob(layout, json.dumps(manifest, sort_keys=True).encode())
    index = {"schemaVersion": 2, "manifests": [{"mediaType": OCI_MANIFEST, **manifest_descriptor}]}
    (layout / "index.json").write_text(json.dumps(index))
    (layout / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))


def gzip_layer(tar: bytes) -> tuple[bytes, str, str]:
    """A gzipped layer (reproducible: no timestamp in the gzip header) with its diff id."""
    return gzip.compress(tar, compresslevel=1, mtime=0), OCI_LAYER_GZIP, f"sha256:{hashlib.sha256(tar).hexdigest()}"


def load_archive(base: str, archive: Path) -> list[str]:
    """Push every image of an OCI archive or a `docker save` archive; return the names stored."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        with tarfile.open(archive) as tar:
            tar.extractall(root, filter="data")
        if (root / "manifest.json").exists():
            return _load_docker(base, root)
        if (root / "index.json").exists():
            index = json.loads((root / "index.json").read_text())
            names = [m.get("annotations", {}).get("org.opencontainers.image.ref.name") for m in index["manifests"]]
            if not names or not names[0] or len(names) != 1:
                raise ImageError(f"{archive}: an OCI archive of one image named by org.opencontainers.image.ref.name")
            reference = Reference.parse(names[0])
            push_layout(base, root, reference)
            return [str(reference)]
    raise ImageError(f"{archive}: neither an OCI archive (index.json) nor a `docker save` archive (manifest.json)")


def _load_docker(base: str, root: Path) -> list[str]:
    stored = []
    for image in json.loads((root / "manifest.json").read_text()):
        if not image.get("RepoTags"):
            raise ImageError("a `docker save` archive of an untagged image: save it by name")
        with tempfile.TemporaryDirectory() as scratch:
            layout = Path(scratch)
            config = json.loads((root / image["Config"]).read_text())
            layers = []
            for layer in image["Layers"]:
                data = (root / layer).read_bytes()
                layers.append((data, OCI_LAYER, f"sha256:{hashlib.sha256(data).hexdigest()}"))
            write_layout(layout, {k: v for k, v in config.items() if k != "rootfs"}, layers)
            for name in image["RepoTags"]:
                reference = Reference.parse(name)
                push_layout(base, layout, reference)
                stored.append(str(reference))
    return stored


def catalog(base: str) -> dict[str, list[str]]:
    """Every repository of the local registry with its tags."""
    with _request("GET", f"{base}/v2/_catalog?n=1000") as response:
        repositories = json.load(response)["repositories"]
    tags = {}
    for repository in repositories:
        with _request("GET", f"{base}/v2/{repository}/tags/list") as response:
            tags[repository] = sorted(json.load(response).get("tags") or [])
    return tags
