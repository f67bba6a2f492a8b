"""The local single sign-on realm: its users, groups and clients, and how kube-apiserver trusts it.

Pure functions: the Keycloak realm import document and the API server's structured
`AuthenticationConfiguration` for that realm. Nothing here starts a process or writes a file; the
module that runs Keycloak (`keycloak.py`) writes what these return.

User names in Keycloak are the walkthroughs' Kubernetes user names, and kube-apiserver takes the
username from `preferred_username` with no prefix, so an SSO login is the same Kubernetes user as the
static-token user of that name (the same RBAC applies to both).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

REALM = "kubetenancy"
CONSOLE_CLIENT = "kubetenancy-console"
KUBECTL_CLIENT = "kubectl"
SCRIPTS_CLIENT = "kubetenancy-scripts"
"""Password-grant client for scripts and tests; its ID tokens are also for `kubectl` (audience mapper)."""
ADMIN_GROUP = "cluster-admins"

SSO_USERS: Mapping[str, tuple[str, ...]] = {
    "falcon@nordmart.com": ("logistics-dev",),
    "bear@nordmart.com": ("retail-dev",),
    "dev": (),
    "dba": (),
    "mto": (ADMIN_GROUP,),
}
"""The walkthroughs' people, and `mto`, MTO's default console admin, in the cluster-admins group."""


@dataclass(frozen=True)
class Realm:
    """What a realm is made of that is not fixed: secrets, passwords and the console's address."""

    passwords: Mapping[str, str]
    console_secret: str
    console_redirects: tuple[str, ...]
    """Where the console may be sent back to after login (`https://HOST:PORT/*`)."""


def _groups_mapper() -> dict[str, Any]:
    return {
        "name": "groups",
        "protocol": "openid-connect",
        "protocolMapper": "oidc-group-membership-mapper",
        "config": {
            "claim.name": "groups",
            "full.path": "false",
            "id.token.claim": "true",
            "access.token.claim": "true",
            "userinfo.token.claim": "true",
        },
    }


def _audience_mapper(audience: str) -> dict[str, Any]:
    return {
        "name": f"audience-{audience}",
        "protocol": "openid-connect",
        "protocolMapper": "oidc-audience-mapper",
        "config": {"included.client.audience": audience, "id.token.claim": "true", "access.token.claim": "true"},
    }


def _email(user: str) -> str:
    return user if "@" in user else f"{user}@kubetenancy.local"


def realm_document(realm: Realm) -> dict[str, Any]:
    """The realm import (`data/import/<realm>.json`) for Keycloak's `--import-realm`."""
    groups = sorted({group for groups in SSO_USERS.values() for group in groups})
    users = [
        {
            "username": user,
            "enabled": True,
            "email": _email(user),
            "emailVerified": True,
            "firstName": user.split("@")[0].capitalize(),
            "lastName": "Nordmart" if user.endswith("@nordmart.com") else "Local",
            "credentials": [{"type": "password", "value": realm.passwords[user], "temporary": False}],
            "groups": [f"/{group}" for group in groups_of],
        }
        for user, groups_of in SSO_USERS.items()
    ]
    clients = [
        {
            "clientId": CONSOLE_CLIENT,
            "name": "kubetenancy console",
            "publicClient": False,
            "secret": realm.console_secret,
            "standardFlowEnabled": True,
            "directAccessGrantsEnabled": False,
            "redirectUris": list(realm.console_redirects),
            "attributes": {"pkce.code.challenge.method": "S256", "post.logout.redirect.uris": "+"},
            "protocolMappers": [_groups_mapper()],
        },
        {
            "clientId": KUBECTL_CLIENT,
            "name": "kubectl tenancy login",
            "publicClient": True,
            "standardFlowEnabled": True,
            "directAccessGrantsEnabled": False,
            "redirectUris": ["http://127.0.0.1/*"],
            "attributes": {"pkce.code.challenge.method": "S256", "oauth2.device.authorization.grant.enabled": "true"},
            "protocolMappers": [_groups_mapper()],
        },
        {
            "clientId": SCRIPTS_CLIENT,
            "name": "scripts and tests (password grant)",
            "publicClient": True,
            "standardFlowEnabled": False,
            "directAccessGrantsEnabled": True,
            "protocolMappers": [_groups_mapper(), _audience_mapper(KUBECTL_CLIENT)],
        },
    ]
    return {
        "realm": REALM,
        "enabled": True,
        "sslRequired": "external",
        "registrationAllowed": False,
        "editUsernameAllowed": False,
        "bruteForceProtected": True,
        "groups": [{"name": group} for group in groups],
        "users": users,
        "clients": clients,
    }


def issuer(base_url: str) -> str:
    return f"{base_url}/realms/{REALM}"


def authentication_configuration(issuer_url: str, ca_pem: str) -> dict[str, Any]:
    """kube-apiserver's `--authentication-config`: trust ID tokens of the realm for kubectl and the console."""
    return {
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "AuthenticationConfiguration",
        "jwt": [
            {
                "issuer": {
                    "url": issuer_url,
                    "certificateAuthority": ca_pem,
                    "audiences": [KUBECTL_CLIENT, CONSOLE_CLIENT],
                    "audienceMatchPolicy": "MatchAny",
                },
                "claimMappings": {
                    "username": {"claim": "preferred_username", "prefix": ""},
                    "groups": {"claim": "groups", "prefix": ""},
                },
                "userValidationRules": [
                    {
                        "expression": "!user.username.startsWith('system:')",
                        "message": "user names starting with system: are reserved",
                    }
                ],
            }
        ],
    }


def admin_binding() -> dict[str, Any]:
    """Members of the realm's cluster-admins group are cluster admins (the local admin's group, too)."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "kubetenancy-cluster-admins", "labels": {"app.kubernetes.io/managed-by": "kubetenancy"}},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": ADMIN_GROUP}],
    }
