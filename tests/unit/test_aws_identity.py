"""EKS tokens, ARNs and aws-auth, without AWS or a cluster."""

from __future__ import annotations

import datetime
import re
from urllib.parse import urlencode

import pytest

from kubetenancy.cloud.arn import Caller, canonical
from kubetenancy.cloud.aws_auth import AwsAuthError, IdentityMapping, add_mapping, identity_for, remove_mapping
from kubetenancy.cloud.sts import exec_credential, parse_caller
from kubetenancy.cloud.token import TokenRejected, check, decode, encode

NOW = datetime.datetime(2026, 11, 22, 12, 0, tzinfo=datetime.UTC)


def token(
    host: str = "https://sts.eu-north-1.amazonaws.com", signed_at: str = "20261122T115900Z", **params: str
) -> str:
    query = {
        "Action": "GetCallerIdentity",
        "Version": "2011-06-15",
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": "AKIAEXAMPLE/20261122/eu-north-1/sts/aws4_request",
        "X-Amz-Date": signed_at,
        "X-Amz-Expires": "60",
        "X-Amz-SignedHeaders": "host;x-k8s-aws-id",
        "X-Amz-Signature": "f" * 64,
        **params,
    }
    return encode(f"{host}/?{urlencode(query)}")


def test_a_well_formed_token_passes_and_names_its_key() -> None:
    checked = check(token(), now=NOW)
    assert checked.access_key_id == "AKIAEXAMPLE"
    assert decode(token()) == checked.url
    assert check(token("https://sts.amazonaws.com"), now=NOW)
    assert check(token("http://127.0.0.1:5001"), now=NOW, extra_endpoints=frozenset({"http://127.0.0.1:5001"}))


@pytest.mark.parametrize(
    ("forged", "reason"),
    [
        (token("https://sts.amazonaws.com.evil.example"), "not trusted"),
        (token("http://sts.amazonaws.com"), "not trusted"),
        (token("http://127.0.0.1:5001"), "not trusted"),
        (token(signed_at="20261122T113000Z"), "token expired"),
        (token(signed_at="20261122T130000Z"), "signed in the future"),
        (token(Action="AssumeRole"), "not GetCallerIdentity"),
        (token(**{"X-Amz-SignedHeaders": "host"}), "x-k8s-aws-id header is not signed"),
        (token(Extra="1"), "unexpected query parameters ['Extra']"),
        ("k8s-aws-v1.!!!", "not base64url"),
        ("some-other-token", "no k8s-aws-v1. prefix"),
    ],
)
def test_forged_expired_and_foreign_tokens_are_refused(forged: str, reason: str) -> None:
    with pytest.raises(TokenRejected, match=re.escape(reason)):
        check(forged, now=NOW)


def test_roles_are_compared_without_path_or_session() -> None:
    sso = "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-north-1/AWSReservedSSO_Power_b0ad"
    assert canonical(sso) == "arn:aws:iam::111122223333:role/AWSReservedSSO_Power_b0ad"
    session = Caller(
        "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Power_b0ad/random@stakater.com", "111122223333"
    )
    assert session.canonical_arn == "arn:aws:iam::111122223333:role/AWSReservedSSO_Power_b0ad"
    assert session.session_name == "random@stakater.com"
    assert (
        canonical("arn:aws:iam::111122223333:user/test-benzema-mto")
        == "arn:aws:iam::111122223333:user/test-benzema-mto"
    )


AWS_AUTH = {
    "mapRoles": (
        "# nodes: do not touch\n"
        "- rolearn: arn:aws:iam::111122223333:role/eks-nodes\n"
        "  username: system:node:{{EC2PrivateDNSName}}\n"
        "  groups:\n"
        "    - system:bootstrappers\n"
        "    - system:nodes\n"
        "- groups:\n"
        "  - sso-devteam\n"
        "  rolearn: arn:aws:iam::111122223333:role/AWSReservedSSO_Power_b0ad\n"
        "  username: sso-devteam:{{SessionName}}\n"
    ),
    "mapUsers": (
        "  - userarn: arn:aws:iam::111122223333:user/test-benzema-mto\n"
        "    username: test-benzema-mto\n"
        "    groups:\n"
        "      - iam-devteam\n"
    ),
    "mapAccounts": "- '111122223333'\n",
}


def test_identities_from_aws_auth() -> None:
    user = Caller("arn:aws:iam::111122223333:user/test-benzema-mto", "111122223333")
    assert identity_for(AWS_AUTH, user) == ("test-benzema-mto", ("iam-devteam",))
    session = Caller(
        "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Power_b0ad/random-user@stakater.com", "111122223333"
    )
    assert identity_for(AWS_AUTH, session) == ("sso-devteam:random-user-stakater.com", ("sso-devteam",))
    assert identity_for(AWS_AUTH, Caller("arn:aws:iam::111122223333:user/stranger", "111122223333")) is None


def test_map_and_unmap_keep_every_other_line() -> None:
    mapping = IdentityMapping(
        "user", "arn:aws:iam::111122223333:user/falcon@nordmart.com", "falcon@nordmart.com", ("logistics-dev",)
    )
    added = add_mapping(AWS_AUTH, mapping, no_duplicate_arns=True)
    assert added["mapRoles"] == AWS_AUTH["mapRoles"]
    assert added["mapAccounts"] == AWS_AUTH["mapAccounts"]
    assert added["mapUsers"].startswith(AWS_AUTH["mapUsers"])
    assert added["mapUsers"].endswith(
        "  - userarn: arn:aws:iam::111122223333:user/falcon@nordmart.com\n"
        "    username: falcon@nordmart.com\n"
        "    groups:\n"
        "    - logistics-dev\n"
    )
    assert remove_mapping(added, mapping.arn) == AWS_AUTH
    without_sso = remove_mapping(AWS_AUTH, "arn:aws:iam::111122223333:role/AWSReservedSSO_Power_b0ad")
    assert without_sso["mapRoles"] == "".join(AWS_AUTH["mapRoles"].splitlines(keepends=True)[:6])


def test_duplicates_and_unknown_arns_are_refused() -> None:
    existing = IdentityMapping("user", "arn:aws:iam::111122223333:user/test-benzema-mto", "x", ())
    with pytest.raises(AwsAuthError, match="already maps"):
        add_mapping(AWS_AUTH, existing, no_duplicate_arns=True)
    assert add_mapping(AWS_AUTH, existing, no_duplicate_arns=False)["mapUsers"].count("test-benzema-mto") == 3
    with pytest.raises(AwsAuthError, match="has no mapping for"):
        remove_mapping(AWS_AUTH, "arn:aws:iam::111122223333:user/nobody")


def test_malformed_arns_are_refused() -> None:
    with pytest.raises(AwsAuthError, match='"falcon" is not an ARN'):
        add_mapping(AWS_AUTH, IdentityMapping("user", "falcon", "falcon", ()), no_duplicate_arns=False)


def test_malformed_yaml_is_refused_not_rewritten() -> None:
    broken = {"mapUsers": "- userarn: [unclosed\n"}
    with pytest.raises(AwsAuthError, match=re.escape("data.mapUsers is not valid YAML")):
        add_mapping(broken, IdentityMapping("user", "arn:aws:iam::1:user/x", "x", ()), no_duplicate_arns=False)
    with pytest.raises(AwsAuthError, match="must be a list of entries"):
        remove_mapping({"mapUsers": "userarn: x\n"}, "arn:aws:iam::1:user/x")


def test_exec_credential_is_what_kubectl_expects() -> None:
    credential = exec_credential("k8s-aws-v1.abc", NOW)
    assert credential == {
        "kind": "ExecCredential",
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "spec": {},
        "status": {"expirationTimestamp": "2026-11-22T12:14:00Z", "token": "k8s-aws-v1.abc"},
    }


def test_sts_answers_in_json_and_xml() -> None:
    as_json = (
        '{"GetCallerIdentityResponse": {"GetCallerIdentityResult": {"Arn": "arn:aws:iam::1:user/a", '
        '"Account": "1", "UserId": "AIDA1"}}}'
    )
    assert parse_caller(as_json, "application/json", "AKIA1") == Caller("arn:aws:iam::1:user/a", "1", "AKIA1", "AIDA1")
    as_xml = (
        '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
        "<Arn>arn:aws:iam::1:user/a</Arn><UserId>AIDA1</UserId><Account>1</Account>"
        "</GetCallerIdentityResult></GetCallerIdentityResponse>"
    )
    assert parse_caller(as_xml, "text/xml", "AKIA1") == Caller("arn:aws:iam::1:user/a", "1", "AKIA1", "AIDA1")
    with pytest.raises(TokenRejected, match="without a caller ARN"):
        parse_caller("<ErrorResponse/>", "text/xml", "")
