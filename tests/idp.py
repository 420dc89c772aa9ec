#!/usr/bin/python3
"""idp.py OUTDIR: keys and tokens shaped like each identity provider's,
signed now by an independent signer (PyJWT, keys from
jwcrypto), for tests/t_idp.sh and packaging/examples/<provider>.conf.

Writes OUTDIR/keys/<file>.jwks (the public keys, as each provider
publishes them) and prints one JSON line per case:
{"provider", "case", "token", "expect", "user"}.
Shapes follow each provider's public documentation; the values are the
examples' own (tenant ids, clients, audiences)."""

import json
import os
import sys
import time
import uuid

import jwt
from jwcrypto import jwk

OUT = sys.argv[1]
NOW = int(time.time())
os.makedirs(os.path.join(OUT, "keys"), exist_ok=True)
CASES = []


def newkey(kid, **extra):
    k = jwk.JWK.generate(kty="RSA", size=2048, kid=kid, use="sig", alg="RS256")
    pub = json.loads(k.export_public())
    pub.update(extra)
    return k.export_to_pem(private_key=True, password=None), pub


def jwks(name, *pubs):
    with open(os.path.join(OUT, "keys", name), "w") as f:
        json.dump({"keys": list(pubs)}, f)


def sign(pem, kid, claims, typ="JWT"):
    return jwt.encode(claims, pem, algorithm="RS256", headers={"kid": kid, "typ": typ})


def case(provider, name, token, expect, user="", service="dovecot"):
    CASES.append({"provider": provider, "case": name, "token": token, "expect": expect,
                  "user": user, "service": service})


def lookalikes(provider, name, at, other_iss, other_aud, signer):
    """Another tenant's token (its own key, its own iss) and a token for
    another audience: what every provider must refuse."""
    opem, _ = newkey(provider + "-other")
    case(provider, name, signer(dict(at, iss=other_iss), opem, provider + "-other"),
         "unknown_issuer")
    case(provider, "other_audience", signer(dict(at, aud=other_aud)), "audience_mismatch")


def signer_for(pem, kid, typ="JWT"):
    return lambda c, k=pem, i=kid: sign(k, i, c, typ)


def times(life=3600):
    return {"iat": NOW - 5, "nbf": NOW - 5, "exp": NOW - 5 + life}


# ---- Keycloak ----
def keycloak():
    pem, pub = newkey("kc-rs256-1")
    jwks("keycloak-mail.jwks", pub)
    iss = "https://sso.example.com/realms/mail"
    base = dict(times(300), jti=str(uuid.uuid4()), iss=iss, sub=str(uuid.uuid4()),
                typ="Bearer", azp="webmail", session_state=str(uuid.uuid4()), acr="1",
                scope="openid email profile mail", sid=str(uuid.uuid4()),
                email_verified=True, preferred_username="alice", email="alice@example.com",
                aud=["imap.example.com", "account"],
                realm_access={"roles": ["default-roles-mail", "offline_access"]})
    case("keycloak", "access_token", sign(pem, "kc-rs256-1", base), "ok", "alice")
    idt = dict(base, typ="ID", aud="webmail", at_hash="x4Tq1a7b2c3d4e5f6g7h8i")
    del idt["scope"]
    case("keycloak", "id_token", sign(pem, "kc-rs256-1", idt), "id_token")
    lookalikes("keycloak", "other_realm", base, "https://sso.example.com/realms/other",
               "account", signer_for(pem, "kc-rs256-1"))
    case("keycloak", "offline_token", sign(pem, "kc-rs256-1", dict(base, typ="Offline")),
         "wrong_token_type")
    # C8: a realm role for ssh, in realm_access.roles
    ssh = dict(base, aud=["ssh.example.com", "account"],
               realm_access={"roles": ["default-roles-mail", "unix-admins"]})
    case("keycloak", "C8_realm_role_ssh", sign(pem, "kc-rs256-1", ssh), "ok", "alice", "sshd")
    case("keycloak", "C8_without_realm_role_ssh",
         sign(pem, "kc-rs256-1", dict(ssh, realm_access={"roles": ["offline_access"]})),
         "group_required", service="sshd")


# ---- Microsoft Entra ID ----
CONTOSO = "11111111-2222-4333-8444-555555555555"
FABRIKAM = "66666666-7777-4888-9999-aaaaaaaaaaaa"
CONSUMER = "9188040d-6c67-4c5b-b112-36a304b66dad"
API = "0d5b5c6e-3a4f-4b2c-9d1e-7f8a9b0c1d2e"
CLIENT = "aaaabbbb-cccc-4ddd-8eee-ffff00001111"


def entra():
    v2 = "https://login.microsoftonline.com/{tenantid}/v2.0"
    pem, pub = newkey("nOo3ZDrODXEK1jKWhXslHR_KXEg", issuer=v2, x5t="nOo3ZDrODXEK1jKWhXslHR_KXEg")
    # the consumer tenant's own key, published in the same set (2023)
    msa_pem, msa_pub = newkey("-KI3Q9nNR7bRofxmeZoXqbHZGew",
                              issuer="https://login.microsoftonline.com/%s/v2.0" % CONSUMER)
    jwks("entra.jwks", pub, msa_pub)  # one file for every tenant section
    v1pem, v1pub = newkey("v1-key-1", x5t="v1-key-1")
    jwks("entra-contoso-v1.jwks", v1pub)

    def v2tok(tenant, **over):
        c = dict(times(3900), aud=API, iss="https://login.microsoftonline.com/%s/v2.0" % tenant,
                 aio="AWQAm/8T", azp=CLIENT, azpacr="0", name="Alice Example",
                 oid=str(uuid.uuid4()), preferred_username="alice@contoso.com",
                 rh="0.AQ4A", scp="IMAP.AccessAsUser.All SMTP.Send", sub="bW9ja3N1YmplY3Q",
                 tid=tenant, uti="AbCdEf", ver="2.0")
        c.update(over)
        return c

    kid = "nOo3ZDrODXEK1jKWhXslHR_KXEg"
    case("entra", "v2_access_token", sign(pem, kid, v2tok(CONTOSO)), "ok", "alice")
    case("entra", "v2_second_tenant",
         sign(pem, kid, v2tok(FABRIKAM, preferred_username="bob@fabrikam.com")), "ok", "bob")
    idt = v2tok(CONTOSO, aud=CLIENT, nonce="n-0S6_WzA2Mj")
    del idt["scp"], idt["azp"]
    case("entra", "v2_id_token", sign(pem, kid, idt), "id_token")
    case("entra", "v2_other_tenant", sign(pem, kid, v2tok(str(uuid.uuid4()))),
         "unknown_issuer")
    case("entra", "v2_consumer_tenant", sign(pem, kid, v2tok(CONSUMER)), "unknown_issuer")
    # the 2023 forgery: a contoso token signed by the consumer tenant's key
    case("entra", "v2_consumer_key_forgery",
         sign(msa_pem, "-KI3Q9nNR7bRofxmeZoXqbHZGew", v2tok(CONTOSO)), "key_issuer_mismatch")
    # iss names contoso, tid another tenant: the key's {tenantid} does not fit
    case("entra", "v2_tid_differs_from_iss",
         sign(pem, kid, v2tok(CONTOSO, tid=FABRIKAM)), "key_issuer_mismatch")
    case("entra", "v2_other_audience",
         sign(pem, kid, v2tok(CONTOSO, aud="00000003-0000-0000-c000-000000000000")),
         "audience_mismatch")
    v1 = dict(times(3900), aud="api://mail.contoso.com",
              iss="https://sts.windows.net/%s/" % CONTOSO, acr="1", aio="E2ZgYJ",
              amr=["pwd"], appid=CLIENT, appidacr="0", family_name="Example",
              given_name="Alice", ipaddr="192.0.2.1", name="Alice Example",
              oid=str(uuid.uuid4()), scp="IMAP.AccessAsUser.All", sub="djFzdWJqZWN0",
              tid=CONTOSO, unique_name="alice@contoso.com", upn="alice@contoso.com",
              uti="XyZ", ver="1.0")
    case("entra", "v1_access_token", sign(v1pem, "v1-key-1", v1), "ok", "alice")
    # C8: an app role for ssh in "roles"; groups left out (overage) refused
    case("entra", "C8_app_role_ssh", sign(pem, kid, v2tok(CONTOSO, roles=["Unix.Admin"])), "ok",
         "alice", "sshd")
    case("entra", "C8_other_app_role_ssh",
         sign(pem, kid, v2tok(CONTOSO, roles=["Mail.User"])), "group_required", service="sshd")
    case("entra", "C8_groups_overage_ssh",
         sign(pem, kid, v2tok(CONTOSO, _claim_names={"groups": "src1"}, _claim_sources={
             "src1": {"endpoint": "https://graph.microsoft.com/v1.0/users/x/getMemberObjects"}
         })), "groups_overage", service="sshd")
    case("entra", "v1_signed_by_v2_key", sign(pem, kid, v1), "unknown_key")


# ---- Okta ----
def okta():
    pem, pub = newkey("okta-k1")
    jwks("okta-mail.jwks", pub)
    iss = "https://example.okta.com/oauth2/aus1mail"
    at = dict(times(3600), ver=1, jti="AT.%s" % uuid.uuid4().hex, iss=iss, aud="api://mail",
              cid="0oa1mailclient", uid="00u1alice", scp=["openid", "email", "mail.read"],
              auth_time=NOW - 60, sub="alice@example.com")
    # Okta sets no typ in the header
    def osign(c, k=pem, kid="okta-k1"):
        return jwt.encode(c, k, algorithm="RS256", headers={"kid": kid, "typ": None})
    case("okta", "access_token", osign(at), "ok", "alice")
    idt = dict(times(3600), sub="00u1alice", ver=1, iss=iss, aud="0oa1mailclient",
               jti="ID.%s" % uuid.uuid4().hex, amr=["pwd"], idp="00o1idp", nonce="abc",
               auth_time=NOW - 60, at_hash="yXW3nGmJ0n0s7Xk0p")
    case("okta", "id_token", osign(idt), "id_token")
    lookalikes("okta", "other_org", at, "https://other.okta.com/oauth2/default",
               "api://default", osign)
    case("okta", "other_client", osign(dict(at, cid="0oa1otherclient")), "client_mismatch")
    # C8, C9: the groups claim of the authorization server, a recent login
    ssh = dict(at, aud="api://ssh", groups=["Everyone", "unix-admins"])
    case("okta", "C8_group_ssh", osign(ssh), "ok", "alice", "sshd")
    case("okta", "C8_not_in_group_ssh", osign(dict(ssh, groups=["Everyone"])),
         "group_required", service="sshd")
    case("okta", "C9_login_too_old_ssh", osign(dict(ssh, auth_time=NOW - 3600)),
         "auth_too_old", service="sshd")


# ---- Auth0 ----
def auth0():
    pem, pub = newkey("auth0-k1")
    jwks("auth0.jwks", pub)
    iss = "https://example.eu.auth0.com/"
    at = dict(times(86400), iss=iss, sub="auth0|64f1c0ffee0123456789abcd",
              aud=["https://mail.example.com/", "https://example.eu.auth0.com/userinfo"],
              azp="Xy7mailclient", scope="openid profile mail.read")
    at["https://mail.example.com/username"] = "alice"
    case("auth0", "access_token", sign(pem, "auth0-k1", at), "ok", "alice")
    rfc9068 = dict(at, client_id="Xy7mailclient", jti=str(uuid.uuid4()))
    del rfc9068["azp"]
    case("auth0", "rfc9068_access_token", sign(pem, "auth0-k1", rfc9068, typ="at+jwt"), "ok",
         "alice")
    idt = dict(times(36000), iss=iss, sub=at["sub"], aud="Xy7mailclient", nonce="n1",
               name="alice@example.com", sid="s1")
    case("auth0", "id_token", sign(pem, "auth0-k1", idt), "id_token")
    # C8: roles under the namespaced claim a post-login Action sets
    ssh = dict(at, aud=["https://ssh.example.com/", "https://example.eu.auth0.com/userinfo"])
    ssh["https://mail.example.com/roles"] = ["unix-admins"]
    case("auth0", "C8_namespaced_role_ssh", sign(pem, "auth0-k1", ssh), "ok", "alice", "sshd")
    ssh["https://mail.example.com/roles"] = ["mail-users"]
    case("auth0", "C8_other_namespaced_role_ssh", sign(pem, "auth0-k1", ssh), "group_required",
         service="sshd")
    lookalikes("auth0", "other_tenant", at, "https://other.eu.auth0.com/",
               "https://api.example.com/", signer_for(pem, "auth0-k1"))


# ---- authentik, ZITADEL, Dex: access tokens with the client as audience ----
def authentik():
    pem, pub = newkey("ak-k1")
    jwks("authentik-mail.jwks", pub)
    iss = "https://authentik.example.com/application/o/mail/"
    at = dict(times(600), iss=iss, sub="f3c6d0e1a2b3c4d5e6f7", aud="mailclient",
              auth_time=NOW - 30, acr="goauthentik.io/providers/oauth2/default", amr=["pwd"],
              sid="abc", email="alice@example.com", email_verified=True, name="Alice",
              given_name="Alice", preferred_username="alice", nickname="alice",
              groups=["mail-users"], azp="mailclient", uid="u1", scope="openid email profile")
    case("authentik", "access_token", sign(pem, "ak-k1", at), "ok", "alice")
    case("authentik", "id_token",
         sign(pem, "ak-k1", dict(at, at_hash="q1w2e3r4t5", nonce="n")), "id_token")
    lookalikes("authentik", "other_application", at,
               "https://authentik.example.com/application/o/wiki/", "wikiclient",
               signer_for(pem, "ak-k1"))


def zitadel():
    pem, pub = newkey("219876543210987654")
    jwks("zitadel.jwks", pub)
    iss = "https://mail-example.zitadel.cloud"
    at = dict(times(43200), iss=iss, sub="221234567890129999",
              aud=["221234567890123455", "221234567890123456@mail"],
              client_id="221234567890123456@mail", jti=str(uuid.uuid4().int)[:18],
              preferred_username="alice")
    case("zitadel", "access_token", sign(pem, "219876543210987654", at), "ok", "alice")
    idt = dict(at, azp="221234567890123456@mail", at_hash="h1", amr=["password"],
               auth_time=NOW - 30)
    case("zitadel", "id_token", sign(pem, "219876543210987654", idt), "id_token")
    lookalikes("zitadel", "other_instance", at, "https://other-example.zitadel.cloud",
               ["221234567890120000"], signer_for(pem, "219876543210987654"))


def dex():
    pem, pub = newkey("0a1b2c3d4e5f")
    jwks("dex.jwks", pub)
    iss = "https://dex.example.com"
    at = dict(times(86400), iss=iss, sub="CgVhbGljZRIFbG9jYWw", aud="mailclient",
              email="alice@example.com", email_verified=True, name="Alice")
    case("dex", "access_token", sign(pem, "0a1b2c3d4e5f", at), "ok", "alice")
    case("dex", "id_token", sign(pem, "0a1b2c3d4e5f", dict(at, at_hash="aB3", nonce="n")),
         "id_token")
    lookalikes("dex", "other_instance", at, "https://dex.other.example", "wikiclient",
               signer_for(pem, "0a1b2c3d4e5f"))


for fn in (keycloak, entra, okta, auth0, authentik, zitadel, dex):
    fn()
for c in CASES:
    print(json.dumps(c))
