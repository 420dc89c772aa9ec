#!/usr/bin/python3
"""Differential test: tokenscope against PyJWT (an independent implementation)
on >= 10,000 generated tokens, valid and mutated, with the same keys and an
equivalent policy. Every token tokenscope accepts, PyJWT must accept too.
Tokens PyJWT accepts and tokenscope refuses are listed by the rule that
refused them (tokenscope is stricter by design: typ, username charset,
lifetime, ...). Prints TAP.

usage: differential.py BATCH_VERIFY FIXTURES_DIR WORK_DIR [COUNT]
"""
import collections
import json
import os
import random
import subprocess
import sys
import time

import jwt

batch, fx, work = sys.argv[1:4]
count = int(sys.argv[4]) if len(sys.argv) > 4 else 10000
rng = random.Random(20261126)  # reproducible
NOW = int(time.time())
ISS = "https://issuer.example"
AUD = "imap.example.com"
KEYS = {  # kid: (key name, alg)
    "k-es256": ("p256", "ES256"), "k-rs256": ("rsa2048", "RS256"),
    "k-ps256": ("rsa2048", "PS256"), "k-eddsa": ("ed25519", "EdDSA"),
    "k-es384": ("p384", "ES384"),
}


def pem(name, kind):
    return open(os.path.join(fx, "keys", "%s.%s.pem" % (name, kind)), "rb").read()


# parsed once: loading an RSA private key runs expensive consistency checks
_private = {}


def private(name):
    if name not in _private:
        from cryptography.hazmat.primitives.serialization import load_pem_private_key
        _private[name] = load_pem_private_key(pem(name, "key"), None)
    return _private[name]


os.makedirs(work, exist_ok=True)
for f in os.listdir(work):
    os.unlink(os.path.join(work, f))
lines = ["[global]", "clock_skew = 60", "reload_interval = 3600", "", "[issuer test]",
         "issuer = " + ISS, "algorithms = ES256 RS256 PS256 EdDSA ES384", "token_type = jwt"]
for kid, (name, alg) in KEYS.items():
    fn = "%s-%s.pem" % (kid, name)
    with open(os.path.join(work, fn), "wb") as f:
        f.write(pem(name, "pub"))
    os.chmod(os.path.join(work, fn), 0o644)
    lines.append("key = %s kid=%s alg=%s" % (fn, kid, alg))
lines += ["", "[service dovecot]", "issuers = test", "audiences = " + AUD, ""]
conf = os.path.join(work, "tokenscope.conf")
with open(conf, "w") as f:
    f.write("\n".join(lines))
os.chmod(conf, 0o644)


def claims():
    c = {"iss": ISS, "sub": rng.choice(["alice", "bob", "carol.d", "x@example.com"]),
         "aud": AUD, "iat": NOW - rng.randint(0, 300), "exp": NOW + rng.randint(60, 3600),
         "jti": "%x" % rng.getrandbits(64), "scope": "mail.read"}
    r = rng.random()
    if r < 0.08:
        c["exp"] = NOW - rng.randint(61, 5000)                       # expired
    elif r < 0.12:
        c["nbf"] = NOW + rng.randint(120, 5000)                      # not yet valid
    elif r < 0.16:
        c["aud"] = rng.choice(["other.example", ["x", AUD], [], ["x"]])
    elif r < 0.19:
        c["iss"] = rng.choice([ISS + "/", ISS.upper(), "https://evil.example"])
    elif r < 0.21:
        del c[rng.choice(["exp", "iat", "iss", "aud"])]
    elif r < 0.23:
        c["exp"] = rng.choice(["soon", True, None, 1e30])
    elif r < 0.25:
        c["iat"] = NOW + rng.randint(120, 5000)                      # issued in the future
    elif r < 0.27:
        c["sub"] = rng.choice(["", "-x", "a b", "\u0430lice", "x" * 300])
    return c


def token():
    kid = rng.choice(list(KEYS))
    name, alg = KEYS[kid]
    h = {"kid": kid, "typ": rng.choice(["JWT", "at+jwt", None])}
    r = rng.random()
    if r < 0.05:
        h["kid"] = rng.choice(["nope", "", kid.upper()])
    elif r < 0.08:
        del h["kid"]
    signing = name
    if rng.random() < 0.04:
        signing = "partner_p256" if alg == "ES256" else name         # wrong key
    return jwt.encode(claims(), private(signing), algorithm=alg, headers=h)


def mutate(t):
    b = bytearray(t.encode())
    k = rng.random()
    if k < 0.4:
        b[rng.randrange(len(b))] = rng.randrange(256)
    elif k < 0.6:
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8)
    elif k < 0.75:
        b = b[:rng.randrange(len(b))]
    elif k < 0.85:
        p = t.split(".")
        q = token().split(".")
        j = rng.randrange(3)
        p[j] = q[j]                                                   # segment from another token
        b = bytearray(".".join(p).encode())
    else:
        p = t.split(".")
        p[0] = jwt.utils.base64url_encode(json.dumps(
            rng.choice([{"alg": "none"}, {"alg": "HS256", "kid": "k-rs256"},
                        {"alg": "ES256", "kid": "k-es256", "crit": ["exp"]},
                        {"alg": "RS256", "kid": "k-es256"}])).encode()).decode()
        b = bytearray(".".join(p).encode())
    return bytes(b).replace(b"\n", b"x").decode("latin-1")


tokens = []
while len(tokens) < count:
    t = token()
    tokens.append(t)
    tokens.append(mutate(t))
out = subprocess.run([batch, conf, "dovecot", str(NOW)], input="\n".join(tokens) + "\n",
                     capture_output=True, text=True, encoding="latin-1", check=True).stdout.split("\n")
ours = out[:len(tokens)]

from cryptography.hazmat.primitives.serialization import load_pem_public_key  # noqa: E402
pubkeys = {kid: load_pem_public_key(pem(name, "pub")) for kid, (name, _) in KEYS.items()}


def reference(t):
    try:
        kid = jwt.get_unverified_header(t).get("kid")
        if kid not in KEYS:
            return False
        jwt.decode(t, pubkeys[kid], algorithms=[KEYS[kid][1]], audience=AUD, issuer=ISS,
                   leeway=60, options={"require": ["exp", "iat", "iss"]})
        return True
    except Exception:  # noqa: BLE001 - any refusal by the reference
        return False


n_ok = n_acc = 0
bad = []
stricter = collections.Counter()
for t, r in zip(tokens, ours):
    ref = reference(t)
    if r == "ok":
        n_acc += 1
        if not ref:
            bad.append(t)
    elif ref:
        stricter[r] += 1
print("# %d tokens (%d generated, %d mutated); tokenscope accepted %d, PyJWT accepted %d"
      % (len(tokens), len(tokens) // 2, len(tokens) // 2, n_acc, n_acc - len(bad) + sum(stricter.values())))
for reason, n in stricter.most_common():
    print("# PyJWT accepts, tokenscope refuses: %d x %s" % (n, reason))
print(("ok" if len(tokens) >= 10000 else "not ok") + " 1 - at_least_10000_tokens (%d)" % len(tokens))
print(("ok" if n_acc > 1000 else "not ok") + " 2 - many_tokens_accepted_so_the_test_means_something (%d)" % n_acc)
print(("ok" if not bad else "not ok")
      + " 3 - every_token_tokenscope_accepts_pyjwt_accepts (%d disagreements)" % len(bad))
for t in bad[:5]:
    print("# accepted only by tokenscope: header %r" % t.split(".")[0][:60])
print("1..3")
sys.exit(1 if bad or len(tokens) < 10000 or n_acc <= 1000 else 0)
