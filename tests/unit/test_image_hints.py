"""What the local nodes' image hints say about a pod that cannot pull (pure, no registry)."""

from __future__ import annotations

from kubetenancy.localcluster.image_hints import failed_pulls, hint


def waiting(image: str, reason: str) -> dict[str, object]:
    return {"image": image, "state": {"waiting": {"reason": reason}}}


def test_only_containers_waiting_on_a_pull_are_looked_at() -> None:
    pod = {
        "status": {
            "initContainerStatuses": [waiting("setup:1", "ErrImagePull")],
            "containerStatuses": [
                waiting("web:2", "ImagePullBackOff"),
                waiting("crash:3", "CrashLoopBackOff"),
                {"image": "nginx", "state": {"running": {}}},
            ],
        }
    }
    assert list(failed_pulls(pod)) == ["setup:1", "web:2"]
    assert list(failed_pulls({})) == []


def test_an_image_missing_from_the_local_registry_gets_the_command_that_adds_it() -> None:
    asked: list[tuple[str, str]] = []

    def absent(repository: str, tag: str) -> bool:
        asked.append((repository, tag))
        return False

    message = hint("no-such-image:1.0", absent)
    assert asked == [("docker.io/library/no-such-image", "1.0")]
    assert message is not None
    assert message.startswith('image "no-such-image:1.0" (docker.io/library/no-such-image:1.0) is not in the local')
    assert '"kubetenancy dev images load ARCHIVE"' in message
    hint("ghcr.io/acme/app@sha256:abc", absent)
    assert asked[-1] == ("ghcr.io/acme/app", "sha256:abc"), "a digest is looked up as such"


def test_an_image_the_registry_has_failed_for_another_reason_and_gets_no_hint() -> None:
    assert hint("nginx", lambda repository, tag: True) is None


def test_an_image_of_a_registry_that_is_not_mirrored_says_so() -> None:
    message = hint("example.com/app:1", lambda repository, tag: False)
    assert message is not None
    assert "the local nodes pull only from docker.io" in message
