#!/usr/bin/python3
"""Writes the checked-in seed corpora of the fuzz targets from the test
fixtures: valid tokens of every algorithm and the attack tokens (validate,
pam), key files (keyfile), configurations (conf), SASL messages (sasl_msg).
The Wycheproof JWS vectors are added at fuzz time by run.sh from
../shared (they are not ours to commit). Run from tests/fuzz/."""
import hashlib
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
FX = os.path.join(HERE, "..", "fixtures")


def put(target, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


tokens = json.load(open(os.path.join(FX, "tokens.json")))["tokens"]
for name, t in sorted(tokens.items()):
    put("validate", t["token"])
    if name.startswith("case_good") or name.startswith("case_K1") or name.startswith("good_"):
        put("pam", t["token"])
keys = os.path.join(FX, "keys")
for f in sorted(os.listdir(keys)):
    if f.endswith(".pub.pem") or (f.endswith(".jwk") and not f.startswith("hs")):
        put("keyfile", open(os.path.join(keys, f), "rb").read())
jwks = [json.load(open(os.path.join(keys, f))) for f in ("p256.jwk", "rsa2048.jwk", "ed25519.jwk")]
put("keyfile", json.dumps({"keys": jwks}))
put("conf", open(os.path.join(HERE, "..", "policy.conf")).read())
put("conf", open(os.path.join(HERE, "..", "..", "packaging", "tokenscope.conf")).read())
good = tokens["case_good_corp_es256"]["token"]
put("sasl_msg", "n,a=alice,\x01host=mx.example.com\x01port=587\x01auth=Bearer %s\x01\x01" % good)
put("sasl_msg", "n,,\x01auth=Bearer %s\x01\x01" % good)
put("sasl_msg", "y,a=al=2Cice,\x01auth=bearer %s\x01\x01" % good)
put("sasl_msg", "\x01")
put("sasl_msg", "\x01user=alice\x01auth=Bearer %s\x01\x01" % good)
put("sasl_msg", "user=alice\x01auth=Bearer %s\x01\x01" % good)
# introspection requests (fuzz_introspect.c's layout: a flags byte, then
# NUL-separated path, Content-Type, Authorization, client header, protocol,
# remote and the body); client a:x is "Basic YTp4"
for name in ("case_good_corp_es256", "case_K1_partner_key_claims_corp_issuer", "case_good_smtp",
             "case_C1_expired", "case_good_partner"):
    t = tokens[name]["token"].encode()
    put("introspect", b"\x02/introspect/dovecot\0application/x-www-form-urlencoded\0Basic YTp4\0\0\0"
        b"127.0.0.9:1234\0token=" + t)
    put("introspect", b"\x02/introspect\0application/x-www-form-urlencoded\0Basic YTp4\0\0imap\0\0token="
        + t + b"&token_type_hint=access_token")
    put("introspect", b"\x01/introspect/dovecot\0\0Bearer " + t + b"\0Basic YTp4\0\0\0")
    put("introspect", b"\x06/introspect/dovecot\0application/x-www-form-urlencoded\0\0\0\0\0token=" + t)
