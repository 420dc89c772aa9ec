#!/usr/bin/python3
"""Tokens for the M7 alert tests, signed by independent signers (PyJWT;
python3-cryptography for the public-key bytes an algorithm-confusion attack
uses as an HMAC secret).

Usage: mint_forgeries.py FIXTURES_DIR OUT_DIR NOW
Writes OUT_DIR/tenant.jwks (p256's public JWK, kid t-1, published for any
tenant through an "issuer" template, the shape Entra ID uses) and prints
{"name": token, ...} on stdout. NOW is the clock the test injects.
Each forgery is correctly signed with a key that is out of scope for the
issuer it claims; the tests break the signature themselves to show that
a broken one raises no alert.
"""
import json
import sys

import jwt
from cryptography.hazmat.primitives import serialization

fx, out_dir, now = sys.argv[1], sys.argv[2], int(sys.argv[3])
CORP = "https://sso.example.com/realms/corp"
TENANT_A = "https://login.example.com/tenant-a/v2.0"


def priv(name):
    with open("%s/keys/%s.key.pem" % (fx, name), "rb") as f:
        return f.read()


def mint(key, alg, kid, **claims):
    c = {"iss": CORP, "sub": "3f2a-alice", "preferred_username": "alice",
         "aud": "imap.example.com", "scope": "mail.read", "azp": "webmail",
         "tid": "corp-tenant", "jti": "forgery", "iat": now - 100, "exp": now + 3500}
    c.update(claims)
    h = {"typ": "at+jwt"}
    if kid is not None:
        h["kid"] = kid
    return jwt.encode(c, key, algorithm=alg, headers=h)


jwk = json.load(open(fx + "/keys/p256.jwk"))
jwk.update({"kid": "t-1", "issuer": "https://login.example.com/{tenantid}/v2.0"})
with open(out_dir + "/tenant.jwks", "w") as f:
    json.dump({"keys": [jwk]}, f)

with open(fx + "/keys/p256.pub.pem", "rb") as f:
    p256_pem = f.read()
rsa_der = serialization.load_pem_private_key(priv("rsa2048"), None).public_key().public_bytes(
    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


class RawHmacKey(jwt.algorithms.HMACAlgorithm):
    """PyJWT refuses a PEM as an HMAC secret (its own confusion guard): this
    attacker does not."""

    def prepare_key(self, key):
        return key


for name, h in (("HS256", RawHmacKey.SHA256), ("HS384", RawHmacKey.SHA384)):
    jwt.unregister_algorithm(name)
    jwt.register_algorithm(name, RawHmacKey(h))

toks = {
    # claims corp, signed by partner's key under partner's kid (the 2023 attack)
    "forged_cross_issuer": mint(priv("partner_p256"), "ES256", "partner-1"),
    # claims corp, signed by partner's key under a kid both issuers use
    "forged_shared_kid": mint(priv("partner_rsa2048"), "RS256", "shared"),
    "stolen_expired": mint(priv("p384"), "ES384", "corp-old"),
    "stolen_not_yet_valid": mint(priv("rsa3072"), "RS384", "corp-future"),
    "stolen_revoked": mint(priv("ed448"), "EdDSA", "corp-revoked"),
    # tenant-a's issuer, signed by the key that is published for tenant-b
    "cross_tenant": mint(priv("p256"), "ES256", "t-1", iss=TENANT_A, tid="tenant-b"),
    "alg_confusion_pem": mint(p256_pem, "HS256", "corp-1"),
    # an issuer's own HMAC secret, past its not_after
    "stolen_hmac": mint(jwt.utils.base64url_decode(json.load(open(fx + "/keys/hs256.jwk"))["k"]),
                        "HS256", "hs256", iss="https://hmac.example.net"),
    "alg_confusion_der_no_kid": mint(rsa_der, "HS384", None),
    "unknown_kid": mint(priv("p256"), "ES256", "no-such-kid"),
    "no_kid": mint(priv("p256"), "ES256", None),
    "good": mint(priv("p256"), "ES256", "corp-1"),
    "hostile_claims": mint(priv("p256"), "ES256", "corp-1",
                           sub='a"b\\c\nd\u2028\u00e9}{', jti='j"\n\t\\u0000<>'),
}
json.dump(toks, sys.stdout)
