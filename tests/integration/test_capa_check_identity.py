"""`check-identity`'s chain walk against moto's STS: a fresh session per hop, each landing account, and the
AWS error at the hop that fails."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from kubetenancy.cloud.assume_chain import HopFailed, walk_with_sts
from kubetenancy.cloud.identity_index import IdentityIndex
from kubetenancy.frontdoors.capa import identity_from_cr
from kubetenancy.model import IdentityKey
from tests.support.moto_aws import MotoAws

pytestmark = pytest.mark.integration


def role(name: str, arn: str, source: tuple[str, str], **spec: Any) -> dict[str, Any]:
    return {
        "kind": "AWSClusterRoleIdentity",
        "metadata": {"name": name},
        "spec": {"roleARN": arn, "sourceIdentityRef": {"kind": source[0], "name": source[1]}, **spec},
    }


def index_of(*objects: dict[str, Any]) -> IdentityIndex:
    index = IdentityIndex()
    for obj in objects:
        index.put_identity(identity_from_cr(obj))
    return index


CONTROLLER = {"kind": "AWSClusterControllerIdentity", "metadata": {"name": "default"}, "spec": {}}


def test_each_hop_is_a_fresh_session_landing_in_its_account(aws: MotoAws, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.endpoint)
    index = index_of(
        CONTROLLER,
        role("hub", "arn:aws:iam::222222222222:role/hub", ("AWSClusterControllerIdentity", "default")),
        role("spoke", "arn:aws:iam::333333333333:role/spoke", ("AWSClusterRoleIdentity", "hub"), sessionName="capa"),
    )
    root = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
    hops = list(walk_with_sts(index.chain(IdentityKey("AWSClusterRoleIdentity", "spoke")), root, "us-east-1"))
    assert [(h.identity, h.account) for h in hops] == [
        ("AWSClusterControllerIdentity default", "123456789012"),
        ("AWSClusterRoleIdentity hub", "222222222222"),
        ("AWSClusterRoleIdentity spoke", "333333333333"),
    ]
    assert hops[1].caller == "arn:aws:sts::222222222222:assumed-role/hub/kubetenancy-check-identity"
    assert hops[2].caller == "arn:aws:sts::333333333333:assumed-role/spoke/capa"


def test_the_hop_that_fails_is_named_with_the_error(aws: MotoAws, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.endpoint)
    index = index_of(
        CONTROLLER,
        role(
            "short", "arn:aws:iam::222222222222:role/x", ("AWSClusterControllerIdentity", "default"), durationSeconds=5
        ),
    )
    root = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
    walk = walk_with_sts(index.chain(IdentityKey("AWSClusterRoleIdentity", "short")), root, "us-east-1")
    assert next(walk).account == "123456789012"
    with pytest.raises(HopFailed) as failed:
        next(walk)
    assert str(failed.value).startswith(
        "AWSClusterRoleIdentity short: arn:aws:sts::123456789012:user/moto could not assume "
        "arn:aws:iam::222222222222:role/x: "
    )
    assert "DurationSeconds" in str(failed.value)
