"""Say on a pod how to add an image its node could not pull from the local registry.

The local nodes pull every image from the plane's registry (`registry`), so an image nobody loaded fails
as a registry would: `ErrImagePull`, "not found". That is right, but it does not say what to do here.
This process watches its cluster's pods; when a container waits on a pull and its image is not in the
local registry, it posts one Warning event, `ImageNotInLocalRegistry`, on the pod naming the command that
adds it. It never changes a pod.

Run as `python -m kubetenancy.localcluster.image_hints KUBECONFIG REGISTRY_URL`; `kubetenancy dev up`
starts one per node.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from kubetenancy.k8s import Kube
from kubetenancy.k8s.events import post_event
from kubetenancy.k8s.watches import watch
from kubetenancy.localcluster import registry

log = logging.getLogger(__name__)
REASON = "ImageNotInLocalRegistry"
PULL_FAILURES = frozenset({"ErrImagePull", "ImagePullBackOff"})


def failed_pulls(pod: Mapping[str, Any]) -> Iterator[str]:
    """The images of the pod's containers (init containers too) that wait on a failed pull."""
    status = pod.get("status") or {}
    for container in (*(status.get("initContainerStatuses") or ()), *(status.get("containerStatuses") or ())):
        waiting = (container.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in PULL_FAILURES:
            yield str(container["image"])


def hint(image: str, present: Callable[[str, str], bool]) -> str | None:
    """What to tell about `image`, or None when the local registry has it (the failure is something else).
    `present(repository, tag_or_digest)` asks the registry."""
    try:
        reference = registry.Reference.parse(image.partition("@")[0])
    except registry.ImageError as error:
        return str(error)
    _, at, digest = image.partition("@")
    if present(reference.repository, digest if at else reference.tag):
        return None
    return (
        f'image "{image}" ({reference}) is not in the local registry, the only one the local nodes pull from: '
        'add it with "kubetenancy dev images load ARCHIVE" (an OCI or `docker save` archive); '
        '"kubetenancy dev images list" shows what is there'
    )


async def watch_pods(kubeconfig: Path, registry_url: str) -> None:
    def present(repository: str, tag_or_digest: str) -> bool:
        return registry.has_image(registry_url, repository, tag_or_digest)

    told: set[tuple[str, str]] = set()
    """(pod uid, image) already looked at: a pod in back-off is updated again and again."""
    async with Kube(kubeconfig) as kube:
        async for event, pod in watch(kube, "v1", "Pod"):
            uid = pod["metadata"]["uid"]
            if event == "DELETED":
                told = {(u, image) for u, image in told if u != uid}
                continue
            for image in dict.fromkeys(failed_pulls(pod)):
                if (uid, image) in told:
                    continue
                told.add((uid, image))
                message = await asyncio.to_thread(hint, image, present)
                if message is not None:
                    await post_event(kube, pod, "Warning", REASON, message)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kubeconfig", type=Path)
    parser.add_argument("registry_url")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(watch_pods(args.kubeconfig, args.registry_url))


if __name__ == "__main__":
    main()
