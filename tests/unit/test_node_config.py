"""The local node's addresses, image names, mirror configuration and build progress lines."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest
import yaml

from kubetenancy.cli.progress import PlainLines
from kubetenancy.localcluster import netns, nodeconfig
from kubetenancy.localcluster.registry import ImageError, Reference


def test_a_slot_owns_a_link_a_pod_range_and_a_service_range() -> None:
    network = netns.NodeNetwork(7, "kubetenancy-abcd-cluster-1")
    assert (network.host_ip, network.node_ip) == ("10.199.7.1", "10.199.7.2")
    assert ipaddress.ip_address(network.node_ip) in ipaddress.ip_network(network.link_cidr)
    assert (network.pod_cidr, network.service_cidr) == ("10.200.7.0/24", "10.201.7.0/24")
    assert network.kubernetes_service_ip == "10.201.7.1"
    assert len(network.host_link) <= 15  # Linux interface names


def test_slots_that_overlap_host_networks_are_not_used() -> None:
    network = netns.NodeNetwork(3, "n")
    assert netns._collides(network, [ipaddress.IPv4Network("10.200.0.0/16")])
    assert not netns._collides(network, [ipaddress.IPv4Network("10.200.4.0/24"), ipaddress.IPv4Network("10.0.0.0/24")])


def test_namespace_names_differ_per_state_directory_and_cluster(tmp_path: Path) -> None:
    names = {netns.netns_name(tmp_path / d, c) for d in ("a", "b") for c in ("cluster-1", "cluster-2")}
    assert len(names) == 4


@pytest.mark.parametrize(
    ("name", "repository", "tag"),
    [
        ("nginx", "docker.io/library/nginx", "latest"),
        ("nginx:1.22.1", "docker.io/library/nginx", "1.22.1"),
        ("bitnami/redis:7", "docker.io/bitnami/redis", "7"),
        ("registry.k8s.io/pause:3.10", "registry.k8s.io/pause", "3.10"),
        ("ghcr.io/kubetenancy/kubetenancy", "ghcr.io/kubetenancy/kubetenancy", "latest"),
    ],
)
def test_image_names_are_read_as_containerd_reads_them(name: str, repository: str, tag: str) -> None:
    reference = Reference.parse(name)
    assert (reference.repository, reference.tag) == (repository, tag)


def test_images_of_registries_that_are_not_mirrored_are_refused() -> None:
    with pytest.raises(ImageError, match=r"pull only from docker\.io, registry\.k8s\.io, ghcr\.io, quay\.io"):
        Reference.parse("registry.example.com/team/app:1")


def test_every_pull_goes_to_the_local_registry_under_the_registry_name() -> None:
    hosts = nodeconfig.registry_hosts("docker.io", "http://10.199.1.2:5000")
    assert hosts.splitlines()[0] == 'server = "http://10.199.1.2:5000/v2/docker.io"'
    assert '[host."http://10.199.1.2:5000/v2/docker.io"]' in hosts
    assert hosts.count("override_path = true") == 2


def test_the_node_network_and_kubelet_use_the_slot_addresses(tmp_path: Path) -> None:
    network, layout = netns.NodeNetwork(2, "n"), nodeconfig.NodeLayout(tmp_path, tmp_path / "run")
    cni = json.loads(nodeconfig.cni_network(network, layout))
    assert cni["plugins"][0]["ipam"]["ranges"] == [[{"subnet": "10.200.2.0/24"}]]
    kubelet = yaml.safe_load(
        nodeconfig.kubelet_config(network, layout, ca_file=tmp_path / "ca", cert=(tmp_path, tmp_path), cgroup_root="/x")
    )
    assert kubelet["clusterDNS"] == ["10.199.2.2"]
    assert kubelet["address"] == "10.199.2.2"
    assert kubelet["authentication"]["anonymous"] == {"enabled": False}
    assert "forward" not in nodeconfig.corefile(network, tmp_path / "kubeconfig")


def test_builds_off_a_terminal_print_a_line_per_step_and_per_tenth(capsys: pytest.CaptureFixture[str]) -> None:
    report = PlainLines()
    for done in range(0, 101, 5):
        report("kubernetes-node", done, 100)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "building kubernetes-node (100 packages)"
    assert lines[1].startswith("building kubernetes-node: 10/100 packages, ")
    assert lines[-1].startswith("built kubernetes-node in ")
    assert len(lines) == 11
