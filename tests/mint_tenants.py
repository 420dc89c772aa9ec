#!/usr/bin/python3
"""Tokens for the K16 tests (tenants of one "{tenantid}" issuer section),
signed by an independent signer (PyJWT) with p256's private key, kid t-1.

Usage: mint_tenants.py FIXTURES_DIR NOW
Prints {"name": token, ...}: "tenant-a", "tenant-b" and "tenant-z" (iss
https://login.example.com/<tenant>/v2.0, tid the same tenant), and
"a_with_tid_b" (tenant-a's iss, tenant-b's tid).
"""
import json
import sys

import jwt

fx, now = sys.argv[1], int(sys.argv[2])
with open("%s/keys/p256.key.pem" % fx, "rb") as f:
    key = f.read()


def mint(tenant, tid):
    c = {"iss": "https://login.example.com/%s/v2.0" % tenant, "sub": "alice",
         "aud": "imap.example.com", "scope": "mail.read", "tid": tid,
         "jti": "tenant-" + tenant, "iat": now - 100, "exp": now + 3500}
    return jwt.encode(c, key, algorithm="ES256", headers={"typ": "at+jwt", "kid": "t-1"})


out = {t: mint(t, t) for t in ("tenant-a", "tenant-b", "tenant-z")}
out["a_with_tid_b"] = mint("tenant-a", "tenant-b")
print(json.dumps(out))
