"""Token file, kubeconfigs and certificates of the local control plane."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kubetenancy import pki
from kubetenancy.localcluster import kubeconfig, users


def test_token_file_lists_users_with_quoted_groups() -> None:
    names = {"alice": (), "falcon@nordmart.com": ("sso-devteam", "cluster-admins")}
    tokens = users.new_tokens(names)
    rows = list(csv.reader(io.StringIO(users.token_file(names, tokens))))
    assert rows == [
        [tokens["alice"], "alice", "alice"],
        [
            tokens["falcon@nordmart.com"],
            "falcon@nordmart.com",
            "falcon@nordmart.com",
            "sso-devteam,cluster-admins",
        ],
    ]
    assert users.token_file(names, tokens).splitlines()[1].endswith('"sso-devteam,cluster-admins"')
    assert len(set(tokens.values())) == 2


def test_client_certificates_carry_groups_and_servers_their_names() -> None:
    ca = pki.new_ca("test-ca")
    client = x509.load_pem_x509_certificate(
        pki.issue(ca, "kubetenancy-admin", organizations=users.ADMIN_GROUPS, client=True).cert_pem
    )
    orgs = [a.value for a in client.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    assert orgs == ["system:masters", "cluster-admins"]
    usages = client.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.CLIENT_AUTH]

    server = x509.load_pem_x509_certificate(
        pki.issue(ca, "api", hosts=("127.0.0.1", "localhost"), server=True).cert_pem
    )
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    server.verify_directly_issued_by(x509.load_pem_x509_certificate(ca.cert_pem))


def test_keys_are_private_files(tmp_path: Path) -> None:
    _, key = pki.new_ca("ca").write(tmp_path, "ca")
    assert key.stat().st_mode & 0o777 == 0o600


def test_kubeconfig_uses_token_or_certificate(tmp_path: Path) -> None:
    with_token = kubeconfig.kubeconfig("c", "https://127.0.0.1:1", tmp_path / "ca.crt", "alice", token="t")
    assert with_token["users"][0]["user"] == {"token": "t"}
    assert with_token["current-context"] == "alice@c"
    cert = (tmp_path / "a.crt", tmp_path / "a.key")
    with_cert = kubeconfig.kubeconfig("c", "https://127.0.0.1:1", tmp_path / "ca.crt", "admin", client_cert=cert)
    assert with_cert["users"][0]["user"] == {"client-certificate": str(cert[0]), "client-key": str(cert[1])}
