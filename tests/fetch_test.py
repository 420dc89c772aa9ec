#!/usr/bin/python3
"""fetch_test.py: `tokenscope fetch-keys` against a local HTTPS identity
provider on 127.0.0.1 (tests/https_idp.py: Python's http.server with ssl, a
test CA made with the openssl command), printing TAP. Run by tests/t_fetch.sh.

Checks: a first fetch writes the usable keys (0644) and drops an encryption
key, a key published for another issuer and a key of a disallowed
algorithm; a second fetch changes nothing; an untrusted certificate, a
discovery document naming another issuer and a server that is down all
fail and leave the key file as it was; a rotation is picked up by a
long-running verifier without restart; --pin holds back a new key until
`tokenscope keys --approve` names it. fetch_request_test.py adds K14: a
login's request for an unknown kid, served by `fetch-keys --requested`."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

import jwt
from jwcrypto import jwk

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import https_idp  # noqa: E402 (beside this file)

BUILD = os.environ["TS_BUILDDIR"]
TS = os.path.join(BUILD, "tools", "tokenscope")
BATCH = os.path.join(BUILD, "tests", "batch_verify")
DIR = os.path.join(BUILD, "tests", "tmp", "fetch")
N = 0
FAILED = 0


def ok(cond, name):
    global N, FAILED
    N += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", N, name))
    if not cond:
        FAILED = 1
    sys.stdout.flush()


def run(*args):
    p = subprocess.run(list(args), capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def digest(path):
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except FileNotFoundError:
        return None


shutil.rmtree(DIR, ignore_errors=True)
for d in ("", "docs", "keys"):
    os.makedirs(os.path.join(DIR, d), exist_ok=True)
os.chmod(DIR, 0o755)
os.chmod(os.path.join(DIR, "keys"), 0o755)

# ---- a test CA, and the identity provider: files under docs/, over HTTPS ----
CA = https_idp.certs(DIR)
https_idp.openssl(DIR, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                  "-nodes", "-keyout", "other.key", "-out", "other-ca.pem", "-days", "2",
                  "-subj", "/CN=another CA")
DOCS = os.path.join(DIR, "docs")
GETS = {}  # path -> how many times the identity provider served it (K14)


def count_get(path):
    GETS[path] = GETS.get(path, 0) + 1


srv = https_idp.serve(DOCS, DIR, 0, count_get)
PORT = srv.server_address[1]
BASE = "https://127.0.0.1:%d" % PORT
ISS = BASE + "/realms/a"


def publish(path, obj):
    full = os.path.join(DOCS, path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        json.dump(obj, f)


def newkey(kid, kty="RSA", **extra):
    k = (jwk.JWK.generate(kty="RSA", size=2048, kid=kid) if kty == "RSA"
         else jwk.JWK.generate(kty="EC", crv="P-256", kid=kid))
    pub = json.loads(k.export_public())
    pub.update(extra)
    return k.export_to_pem(private_key=True, password=None), pub


def token(pem, kid):
    now = int(time.time())
    return jwt.encode({"iss": ISS, "aud": "imap", "sub": "alice", "tid": "a", "iat": now,
                       "exp": now + 600}, pem, algorithm="RS256",
                      headers={"kid": kid, "typ": "at+jwt"})


A_pem, A = newkey("A", use="sig", issuer=ISS)
B_pem, B = newkey("B", issuer=BASE + "/realms/{tenantid}")
C_pem, C = newkey("C", issuer=BASE + "/realms/other")
D_pem, D = newkey("D", use="enc")
E_pem, E = newkey("E", kty="EC")
F_pem, F = newkey("F")
G_pem, G = newkey("G")
publish("/realms/a/.well-known/openid-configuration",
        {"issuer": ISS, "jwks_uri": BASE + "/realms/a/keys"})
publish("/realms/a/keys", {"keys": [A, B, C, D, E]})
publish("/realms/bad/.well-known/openid-configuration",
        {"issuer": BASE + "/realms/other", "jwks_uri": BASE + "/realms/a/keys"})
# a discovery document trying to write to the administrator's terminal
publish("/realms/esc/.well-known/openid-configuration",
        {"issuer": BASE + "/realms/esc",
         "jwks_uri": BASE + "/x\u001b]0;PWNED\u0007\u001b[2K\r  added kid=evil\n"})

KEYFILE = os.path.join(DIR, "keys", "a.jwks")
CONF = os.path.join(DIR, "a.conf")
with open(CONF, "w") as f:
    f.write("""[global]
reload_interval = 0
approved_keys = %s/approved

[issuer a]
issuer = %s
discovery = %s/realms/a/.well-known/openid-configuration
key = %s
algorithms = RS256
tenant = a

[service imap]
issuers = a
audiences = imap
""" % (DIR, ISS, BASE, KEYFILE))
BAD = os.path.join(DIR, "bad.conf")
with open(BAD, "w") as f:
    f.write("""[issuer bad]
issuer = %s/realms/bad
discovery = %s/realms/bad/.well-known/openid-configuration
key = %s/keys/bad.jwks
algorithms = RS256

[issuer esc]
issuer = %s/realms/esc
discovery = %s/realms/esc/.well-known/openid-configuration
key = %s/keys/esc.jwks
algorithms = RS256

[issuer cred]
issuer = https://127.0.0.1:1/cred
jwks_uri = https://fetchuser:s3cr3t-pw@127.0.0.1:1/keys
key = %s/keys/cred.jwks
algorithms = RS256

[service imap]
issuers = bad
audiences = imap
""" % (BASE, BASE, DIR, BASE, BASE, DIR, DIR))
for c in (CONF, BAD):
    os.chmod(c, 0o644)

# ---- first fetch ----
rc, out = run(TS, "fetch-keys", "-c", CONF, "--ca-file", CA)
ok(rc == 0 and os.path.exists(KEYFILE), "first_fetch_writes_the_key_file (rc %d)" % rc)
for line in out.splitlines():
    print("# " + line)
kids = sorted(k.get("kid") for k in json.load(open(KEYFILE))["keys"]) if rc == 0 else []
ok(kids == ["A", "B"], "only_usable_signature_keys_written (%s)" % kids)
ok(("dropped kid=C: published for another issuer" in out and
    "dropped kid=D: use is not sig" in out and "dropped kid=E:" in out),
   "enc_key_other_issuer_key_and_disallowed_alg_dropped_with_reasons")
ok("added kid=A thumbprint=" in out and "added kid=B thumbprint=" in out,
   "added_keys_reported_with_thumbprints")
ok(oct(os.stat(KEYFILE).st_mode & 0o777) == "0o644", "key_file_mode_0644")
rc, out = run(TS, "check-config", "-c", CONF)
ok(rc == 0, "fetched_file_loads_as_the_modules_load_it")

# ---- nothing changed: nothing written ----
before = os.stat(KEYFILE).st_mtime_ns
time.sleep(0.02)
rc, out = run(TS, "fetch-keys", "-c", CONF, "--ca-file", CA)
ok(rc == 0 and "unchanged" in out and os.stat(KEYFILE).st_mtime_ns == before,
   "second_fetch_leaves_the_file_untouched")

# ---- failures keep the last good file ----
good = digest(KEYFILE)
rc, out = run(TS, "fetch-keys", "-c", CONF)
ok(rc == 1 and digest(KEYFILE) == good and "certificate" in out.lower(),
   "untrusted_certificate_refused_file_kept")
rc, out = run(TS, "fetch-keys", "-c", CONF, "--ca-file", os.path.join(DIR, "other-ca.pem"))
ok(rc == 1 and digest(KEYFILE) == good, "ca_file_replaces_the_trusted_cas")
rc, out = run(TS, "fetch-keys", "-c", BAD, "--ca-file", CA, "bad")
ok(rc == 1 and "names issuer" in out and digest(os.path.join(DIR, "keys", "bad.jwks")) is None,
   "discovery_issuer_mismatch_refused")
rc, out = run(TS, "fetch-keys", "-c", BAD, "--ca-file", CA, "esc")
ok(rc == 1 and "\x1b" not in out and "\x07" not in out and "added kid=evil" not in out,
   "M3_server_data_never_reaches_the_terminal_raw")
rc, out = run(TS, "fetch-keys", "-c", BAD, "--ca-file", CA, "cred")
ok(rc == 1 and "s3cr3t-pw" not in out and "***@127.0.0.1:1" in out,
   "M3_credentials_in_a_url_never_printed")
publish("/realms/a/keys", {"keys": [C, D]})
rc, out = run(TS, "fetch-keys", "-c", CONF, "--ca-file", CA)
ok(rc == 1 and digest(KEYFILE) == good and "left as it was" in out,
   "a_set_with_no_usable_key_never_empties_the_file")
publish("/realms/a/keys", {"keys": [A, dict(B, d="AQAB")]})
rc, out = run(TS, "fetch-keys", "-c", CONF, "--ca-file", CA)
ok(rc == 1 and digest(KEYFILE) == good and "private" in out,
   "a_set_with_private_key_material_refused_whole")

nokid = [{k: v for k, v in key.items() if k != "kid"} for key in (F, G)]
publish("/realms/a/keys", {"keys": nokid})
rc, out = run(TS, "fetch-keys", "-c", CONF, "--ca-file", CA)
ok(rc == 1 and digest(KEYFILE) == good and "twice" in out,
   "K2_two_keys_without_kid_refused_as_ambiguous")

# ---- rotation, seen by a verifier that keeps running ----
verifier = subprocess.Popen([BATCH, CONF, "imap", str(int(time.time()) + 5)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def verify(tok):
    verifier.stdin.write(tok + "\n")
    verifier.stdin.flush()
    return verifier.stdout.readline().strip()


tA, tF = token(A_pem, "A"), token(F_pem, "F")
ok(verify(tA) == "ok" and verify(tF) == "unknown_key", "running_verifier_before_rotation")
publish("/realms/a/keys", {"keys": [F, B]})
rc, out = run(TS, "fetch-keys", "-c", CONF, "--ca-file", CA)
ok(rc == 0 and "removed kid=A" in out and "added kid=F" in out, "rotation_reported")
ok(verify(tF) == "ok" and verify(tA) == "unknown_key",
   "rotation_picked_up_by_the_running_verifier_without_restart")

# ---- the server is down: the file stays ----
good = digest(KEYFILE)
srv.shutdown()
srv.server_close()
rc, out = run(TS, "fetch-keys", "-c", CONF, "--ca-file", CA)
ok(rc == 1 and digest(KEYFILE) == good, "network_failure_keeps_the_old_file")
ok(verify(tF) == "ok", "verifier_unaffected_by_the_failed_fetch")
verifier.stdin.close()
verifier.wait()

# ---- --pin: a new key waits for approval ----
srv = https_idp.serve(DOCS, DIR, PORT, count_get)
publish("/realms/a/keys", {"keys": [F, B, G]})
rc, out = run(TS, "fetch-keys", "-c", CONF, "--ca-file", CA, "--pin")
held = [l for l in out.splitlines() if "held back" in l and "kid=G" in l]
ok(rc == 1 and held and "G" not in [k["kid"] for k in json.load(open(KEYFILE))["keys"]],
   "pin_holds_back_an_unapproved_key")
tp = held[0].split("thumbprint=")[1].split(":")[0].strip() if held else "x"
# an approval for another issuer does not count for this one
with open(os.path.join(DIR, "approved"), "w") as f:
    f.write("# approved keys\nother %s\n" % tp)
os.chmod(os.path.join(DIR, "approved"), 0o644)
rc, out = run(TS, "fetch-keys", "-c", CONF, "--ca-file", CA, "--pin")
ok(rc == 1 and "G" not in [k["kid"] for k in json.load(open(KEYFILE))["keys"]],
   "pin_approval_is_per_issuer")
rc, out = run(TS, "keys", "-c", CONF, "--approve", tp, "--issuer", "a")
ok(rc == 0 and ("a %s" % tp) in open(os.path.join(DIR, "approved")).read(),
   "keys_approve_records_it_for_the_issuer")
rc, _ = run(TS, "keys", "-c", CONF, "--approve", "not-a-thumbprint", "--issuer", "a")
rc2, _ = run(TS, "keys", "-c", CONF, "--approve", tp, "--issuer", "nosuch")
rc3, _ = run(TS, "keys", "-c", CONF, "--approve", tp)
ok(rc == 2 and rc2 == 2 and rc3 == 2,
   "keys_approve_refuses_a_malformed_thumbprint_unknown_or_missing_issuer")
rc, out = run(TS, "fetch-keys", "-c", CONF, "--ca-file", CA, "--pin")
ok(rc == 0 and "G" in [k["kid"] for k in json.load(open(KEYFILE))["keys"]],
   "pin_adds_the_key_once_approved")
# the server changes an approved key's metadata: pinned, the file's JWK stays
publish("/realms/a/keys", {"keys": [F, dict(B, issuer=BASE + "/realms/a"), G]})
rc, out = run(TS, "fetch-keys", "-c", CONF, "--ca-file", CA, "--pin")
b_now = [k for k in json.load(open(KEYFILE))["keys"] if k["kid"] == "B"]
ok(rc == 0 and b_now and b_now[0].get("issuer") == BASE + "/realms/{tenantid}",
   "pin_keeps_the_approved_jwk_as_it_was")
os.chmod(os.path.join(DIR, "approved"), 0o666)
rc, out = run(TS, "fetch-keys", "-c", CONF, "--ca-file", CA, "--pin")
ok(rc == 1, "pin_refuses_a_world_writable_approved_list")
os.chmod(os.path.join(DIR, "approved"), 0o644)

# ---- --pin with one key file named by two sections (as in the Entra example) ----
# An approval for [issuer sa] must not make the key trusted for [issuer sb]:
# the key enters the shared file only once approved for both, a key that is
# in it approved for one only is withdrawn, and `keys` shows the approvals.
H_pem, H = newkey("H")
L_pem, L = newkey("L")
for r in ("sa", "sb"):
    publish("/realms/%s/.well-known/openid-configuration" % r,
            {"issuer": BASE + "/realms/" + r, "jwks_uri": BASE + "/realms/s/keys"})
publish("/realms/s/keys", {"keys": [L]})
SHFILE = os.path.join(DIR, "keys", "shared.jwks")
SH = os.path.join(DIR, "shared.conf")
SHAPPR = os.path.join(DIR, "shared-approved")
with open(SH, "w") as f:
    f.write("""[global]
reload_interval = 0
approved_keys = %s

[issuer sa]
issuer = %s/realms/sa
discovery = %s/realms/sa/.well-known/openid-configuration
key = %s
algorithms = RS256

[issuer sb]
issuer = %s/realms/sb
discovery = %s/realms/sb/.well-known/openid-configuration
key = %s
algorithms = RS256

[service imap]
issuers = sa sb
audiences = imap
""" % (SHAPPR, BASE, BASE, SHFILE, BASE, BASE, SHFILE))
os.chmod(SH, 0o644)
rc, out = run(TS, "fetch-keys", "-c", SH, "--ca-file", CA, "sa")  # L: there before pinning
publish("/realms/s/keys", {"keys": [L, H]})
rc, out = run(TS, "fetch-keys", "-c", SH, "--ca-file", CA, "--pin", "sa")
held = [l for l in out.splitlines() if "held back" in l and "kid=H" in l]
tpH = held[0].split("thumbprint=")[1].split(":")[0].strip() if held else "x"
rc, out = run(TS, "keys", "-c", SH, "--approve", tpH, "--issuer", "sa")
ok(rc == 0 and "also [issuer sb]'s key file" in out, "keys_approve_names_the_other_sections_of_a_shared_file")
rc, out = run(TS, "fetch-keys", "-c", SH, "--ca-file", CA, "--pin", "sa")
kids = [k["kid"] for k in json.load(open(SHFILE))["keys"]]
ok(rc == 1 and "H" not in kids and "not approved for [issuer sb]" in out and
   "--approve %s --issuer sb" % tpH in out,
   "pin_shared_file_key_approved_for_one_section_held_back (%s)" % kids)
# a file written before this rule: the key approved for sa only sits in it
with open(SHFILE, "w") as f:
    json.dump({"keys": [L, H]}, f)
os.chmod(SHFILE, 0o644)
rc, out = run(TS, "keys", "-c", SH)
rows = [l.split() for l in out.splitlines() if tpH in l]
ok(len(rows) == 2 and all(r[-1] == "sa" for r in rows),
   "keys_shows_the_sections_a_pinned_key_is_approved_for (%s)" % [r[-1] for r in rows])
rc, out = run(TS, "fetch-keys", "-c", SH, "--ca-file", CA, "--pin", "sb")
kids = [k["kid"] for k in json.load(open(SHFILE))["keys"]]
ok(rc == 1 and "H" not in kids and "L" in kids and
   "withdrawn (not approved for [issuer sb]" in out,
   "pin_shared_file_key_approved_for_other_section_only_withdrawn (%s)" % kids)
rc, out = run(TS, "keys", "-c", SH, "--approve", tpH, "--issuer", "sb")
rc, out = run(TS, "fetch-keys", "-c", SH, "--ca-file", CA, "--pin", "sb")
kids = [k["kid"] for k in json.load(open(SHFILE))["keys"]]
rc2, out2 = run(TS, "keys", "-c", SH)
rows = [l.split() for l in out2.splitlines() if tpH in l]
ok(rc == 0 and "H" in kids and len(rows) == 2 and all(r[-1] == "sa,sb" for r in rows),
   "pin_shared_file_key_added_once_approved_for_every_section")

exec(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "fetch_request_test.py")).read())
srv.shutdown()
print("1..%d" % N)
sys.exit(FAILED)
