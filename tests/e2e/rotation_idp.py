#!/usr/bin/python3
"""rotation_idp.py DIR: the identity provider of tests/e2e/t_rotation.sh.

Serves DIR/docs over HTTPS on 127.0.0.1 (tests/https_idp.py) until killed,
with a discovery document for issuer BASE/realms/rot whose JWKS starts as key
R1. Writes DIR/ca.pem, DIR/idp.port, DIR/jwks-R1.json ... DIR/jwks-R3.json
(the test rotates by copying one over DIR/docs/realms/rot/keys), and
DIR/tokens.json: a token per key, signed by PyJWT (an independent signer),
for alice, valid for both test services. Appends each JWKS GET to
DIR/jwks-gets (one line a fetch)."""

import json
import os
import sys
import time

import jwt
from jwcrypto import jwk

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import https_idp  # noqa: E402

D = sys.argv[1]
DOCS = os.path.join(D, "docs")
os.makedirs(os.path.join(DOCS, "realms", "rot", ".well-known"), exist_ok=True)
https_idp.certs(D)


def on_get(path):
    if path == "/realms/rot/keys":
        with open(os.path.join(D, "jwks-gets"), "a") as f:
            f.write(path + "\n")


srv = https_idp.serve(DOCS, D, 0, on_get)
base = "https://127.0.0.1:%d" % srv.server_address[1]
iss = base + "/realms/rot"
with open(os.path.join(DOCS, "realms", "rot", ".well-known", "openid-configuration"), "w") as f:
    json.dump({"issuer": iss, "jwks_uri": iss + "/keys"}, f)
now = int(time.time())
tokens = {}
for kid in ("R1", "R2", "R3"):
    k = jwk.JWK.generate(kty="RSA", size=2048, kid=kid)
    pub = dict(json.loads(k.export_public()), use="sig", alg="RS256")
    with open(os.path.join(D, "jwks-%s.json" % kid), "w") as f:
        json.dump({"keys": [pub]}, f)
    tokens[kid] = jwt.encode(
        {"iss": iss, "sub": "alice", "aud": ["imap.example.com", "smtp.example.com"],
         "scope": "mail.read mail.send", "iat": now - 5, "exp": now + 1800},
        k.export_to_pem(private_key=True, password=None), algorithm="RS256",
        headers={"kid": kid, "typ": "at+jwt"})
with open(os.path.join(DOCS, "realms", "rot", "keys"), "w") as f:
    f.write(open(os.path.join(D, "jwks-R1.json")).read())
with open(os.path.join(D, "tokens.json"), "w") as f:
    json.dump(tokens, f)
# last: the test waits for this file, so all the others are there by then
with open(os.path.join(D, "idp.port.tmp"), "w") as f:
    f.write("%s\n" % base)
os.rename(os.path.join(D, "idp.port.tmp"), os.path.join(D, "idp.port"))
while True:
    time.sleep(3600)
