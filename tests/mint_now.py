#!/usr/bin/python3
"""Re-sign the policy cases of tokens.json and authz.json with times shifted to now.

The PAM, SASL and end-to-end tests run against the real clock of a real
server, so they need fresh tokens; this keeps the independent signer
(PyJWT) and the case shapes of gen.py. Usage: mint_now.py FIXTURES_DIR
prints {"now": N, "tokens": {case_name: token}} on stdout.
"""
import json
import sys
import time

import jwt
from jwcrypto import jwk

fx = sys.argv[1]
d = json.load(open(fx + "/tokens.json"))
d["tokens"].update(json.load(open(fx + "/authz.json"))["tokens"])
now = int(time.time())
delta = now - d["now"]
out = {}
for name, t in d["tokens"].items():
    if not name.startswith("case_"):
        continue
    header = jwt.get_unverified_header(t["token"])
    claims = jwt.decode(t["token"], options={"verify_signature": False})
    for k in ("iat", "exp", "nbf", "auth_time"):
        v = claims.get(k)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < 10**12:
            claims[k] = v + delta
    with open("%s/keys/%s.key.pem" % (fx, t["key"]), "rb") as f:
        key = f.read()
    header.pop("alg", None)
    header.setdefault("typ", None)  # PyJWT adds typ JWT unless told not to
    out[name[5:]] = jwt.encode(claims, key, algorithm=t["alg"], headers=header)
# P6: a token longer than any client's answer limit (Entra puts a user's
# groups in the token; 3 KB is common), signed the same way: good_corp_es256
# with a group list, for the multi-part tests.
t = d["tokens"]["case_good_corp_es256"]
claims = jwt.decode(t["token"], options={"verify_signature": False})
for k in ("iat", "exp", "nbf"):
    if k in claims:
        claims[k] += delta
claims["groups"] = ["a3f1c2d4-0000-4000-8000-%012d" % i for i in range(50)]
header = jwt.get_unverified_header(t["token"])
header.pop("alg", None)
header.setdefault("typ", None)
with open("%s/keys/%s.key.pem" % (fx, t["key"]), "rb") as f:
    out["long_good_corp_es256"] = jwt.encode(claims, f.read(), algorithm=t["alg"], headers=header)
json.dump({"now": now, "tokens": out}, sys.stdout)
