# fetch_request_test.py: K14, run by tests/fetch_test.py in its own namespace
# (its identity provider, CA, helpers and TAP counter). A login refused for a
# kid its issuer does not have leaves a request in the spool; `tokenscope
# fetch-keys --requested` (what the systemd path unit runs) empties the spool
# and fetches each issuer asked for at most once per fetch_interval; a running
# verifier takes the new key at its change check.
import base64
import random
import string

SPOOL = os.path.join(DIR, "spool")
os.makedirs(SPOOL)
os.chmod(SPOOL, 0o1733)
ROT_ISS = BASE + "/realms/rot"
ROT_KEYS = "/realms/rot/keys"
ROT_FILE = os.path.join(DIR, "keys", "rot.jwks")
ROT_STATE = os.path.join(DIR, "rot-state")
R1_pem, R1 = newkey("R1", use="sig")
R2_pem, R2 = newkey("R2", use="sig")
S1_pem, S1 = newkey("S1", use="sig")
publish("/realms/rot/.well-known/openid-configuration", {"issuer": ROT_ISS, "jwks_uri": BASE + ROT_KEYS})
publish(ROT_KEYS, {"keys": [R1]})
with open(os.path.join(DIR, "keys", "static.jwks"), "w") as f:
    json.dump({"keys": [S1]}, f)
os.chmod(os.path.join(DIR, "keys", "static.jwks"), 0o644)
ROT = os.path.join(DIR, "rot.conf")
with open(ROT, "w") as f:
    f.write("""[global]
reload_interval = 0
fetch_spool = %s
fetch_interval = 2
fetch_state = %s

[issuer rot]
issuer = %s
discovery = %s/realms/rot/.well-known/openid-configuration
key = %s
algorithms = RS256

[issuer static]
issuer = %s/realms/static
key = %s/keys/static.jwks
algorithms = RS256

[service imap]
issuers = rot static
audiences = imap
""" % (SPOOL, ROT_STATE, ROT_ISS, BASE, ROT_FILE, BASE, DIR))
os.chmod(ROT, 0o644)


def rtoken(pem, kid, iss=ROT_ISS):
    now = int(time.time())
    return jwt.encode({"iss": iss, "aud": "imap", "sub": "alice", "iat": now, "exp": now + 600},
                      pem, algorithm="RS256", headers={"kid": kid, "typ": "at+jwt"})


def spool():
    return sorted(os.listdir(SPOOL))


def requested(*extra):
    return run(TS, "fetch-keys", "-c", ROT, "--ca-file", CA, "--requested", *extra)


def fetches():
    return GETS.get(ROT_KEYS, 0)


rc, out = run(TS, "fetch-keys", "-c", ROT, "--ca-file", CA)
ok(rc == 0 and spool() == [], "K14_timer_fetch_leaves_the_spool_alone (rc %d)" % rc)
rc, out = run(TS, "keys", "-c", ROT)
ok(rc == 0 and "# [issuer rot] last fetch 20" in out and out.rstrip().endswith(": written") and
   "[issuer static]" not in out, "K14_keys_shows_the_last_fetch_time_and_result")

env = dict(os.environ, TS_REQUEST_FETCH="1")
verifier = subprocess.Popen([BATCH, ROT, "imap", str(int(time.time()) + 5)], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
tR1, tR2 = rtoken(R1_pem, "R1"), rtoken(R2_pem, "R2")
ok(verify(tR1) == "ok", "K14_running_login_process_accepts_the_current_key")
# the identity provider rotates to R2 without telling anyone
publish(ROT_KEYS, {"keys": [R2]})
ok(verify(tR2) == "unknown_key fetch_requested" and spool() == ["rot"],
   "K14_unknown_kid_refused_and_its_issuer_requested (%s)" % spool())
ok(verify(tR2) == "unknown_key fetch_requested" and spool() == ["rot"],
   "K14_second_request_coalesces_into_the_pending_one")
ok(verify(rtoken(S1_pem, "S9", BASE + "/realms/static")) == "unknown_key" and spool() == ["rot"],
   "K14_issuer_without_discovery_or_jwks_uri_requests_nothing")
before = fetches()
rc, out = requested()
for line in out.splitlines():
    print("# " + line)
ok(rc == 0 and fetches() == before + 1 and spool() == [] and "added kid=R2" in out,
   "K14_requested_fetch_empties_the_spool_and_fetches_once (rc %d, %d fetches)" %
   (rc, fetches() - before))
ok(verify(tR2) == "ok", "K14_retry_succeeds_in_the_running_process_without_restart")
ok(verify(tR1) == "unknown_key fetch_requested",
   "K14_the_withdrawn_key_refused_as_before")

# a burst of tokens under random kids: one entry, one fetch, nothing kept
os.unlink(os.path.join(SPOOL, "rot"))
body = rtoken(R2_pem, "R2").split(".", 1)[1]


def random_kid_token():
    kid = "".join(random.choice(string.ascii_letters) for _ in range(16))
    hdr = base64.urlsafe_b64encode(json.dumps({"alg": "RS256", "kid": kid, "typ": "at+jwt"})
                                   .encode()).rstrip(b"=").decode()
    return hdr + "." + body

burst = "\n".join(random_kid_token() for _ in range(10000)) + "\n"
p = subprocess.run([BATCH, ROT, "imap", str(int(time.time()) + 5)], env=env, input=burst,
                   capture_output=True, text=True)
answers = p.stdout.splitlines()
ok(len(answers) == 10000 and all(a == "unknown_key fetch_requested" for a in answers) and
   spool() == ["rot"], "K14_10000_random_kids_leave_one_spool_entry (%d answers, spool %s)" %
   (len(answers), spool()))
# the last fetch recorded as later than now (a clock set back): the request
# waits one fetch_interval, never longer and never not at all
with open(ROT_STATE, "w") as f:
    f.write("rot %d written\n" % (int(time.time()) + 100))
before = fetches()
rc, out = requested()
ok(rc == 0 and fetches() == before + 1 and spool() == [],
   "K14_10000_random_kids_cause_one_fetch (%d)" % (fetches() - before))
ok("fetched less than 2 s ago: waiting 2 s" in out,
   "K14_a_request_within_fetch_interval_waits_for_it")
state = open(ROT_STATE).read().split()
ok(len(state) == 3 and state[0] == "rot" and state[2] == "unchanged",
   "K14_fetch_state_holds_one_line_per_issuer (%s)" % state)

# what is in the spool is only a name, checked against the configuration
for name in ("nosuch", "static", "rot.tmp", ".hidden"):
    open(os.path.join(SPOOL, name), "w").close()
os.symlink("/etc/passwd", os.path.join(SPOOL, "ln"))
os.mkdir(os.path.join(SPOOL, "adir"))
before = fetches()
rc, out = requested()
ok(rc == 0 and fetches() == before and spool() == [] and os.path.exists("/etc/passwd") and
   "fetch request nosuch: no [issuer]" in out and "fetch request static: no [issuer]" in out,
   "K14_spool_names_outside_the_fetchable_sections_removed_and_ignored")
rc, out = requested()
ok(rc == 0 and "no fetch requested" in out and fetches() == before,
   "K14_empty_spool_fetches_nothing")
# a fetch record others could rewrite bounds nothing: no fetch at all
os.chmod(ROT_STATE, 0o666)
open(os.path.join(SPOOL, "rot"), "w").close()
rc, out = requested()
ok(rc == 1 and fetches() == before and "fetch_state" in out and spool() == [],
   "K14_unsafe_fetch_state_fetches_nothing")
os.chmod(ROT_STATE, 0o644)

# the spool must not be one an account could empty for others
os.chmod(SPOOL, 0o733)
ok(verify(tR1) == "unknown_key" and spool() == [],
   "K14_spool_writable_by_others_without_sticky_bit_refused_by_the_login")
rc, out = requested()
ok(rc == 1 and "sticky" in out, "K14_spool_writable_by_others_without_sticky_bit_refused_by_the_fetcher")
os.chmod(SPOOL, 0o1733)
os.rmdir(SPOOL)
ok(verify(tR1) == "unknown_key", "K14_missing_spool_decides_as_before (as in a chroot)")
os.makedirs(SPOOL)
os.chmod(SPOOL, 0o1733)
verifier.stdin.close()
verifier.wait()

# a service account may leave a request but may not see the spool's entries
# (where the scratch directory is within its reach: a package build's is not)
nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
if (os.geteuid() == 0 and shutil.which("setpriv") and
        subprocess.run(nobody + ["test", "-r", ROT]).returncode == 0):
    p = subprocess.run(nobody + [BATCH, ROT, "imap", str(int(time.time()) + 5)], env=env,
                       input=tR1 + "\n", capture_output=True, text=True)
    ls = subprocess.run(nobody + ["ls", SPOOL], capture_output=True, text=True)
    ok(p.stdout.strip() == "unknown_key fetch_requested" and spool() == ["rot"] and
       ls.returncode != 0,
       "K14_service_account_may_leave_a_request_but_not_list_the_spool (%s, ls %d)" %
       (p.stdout.strip() or p.stderr.strip(), ls.returncode))
    for name in spool():
        os.unlink(os.path.join(SPOOL, name))
else:
    print("# the service account test is skipped: not root, or %s out of others' reach" % DIR)
rc, out = run(TS, "fetch-keys", "-c", CONF, "--ca-file", CA, "--requested")
ok(rc == 2 and "no fetch_spool" in out, "K14_requested_without_a_spool_is_a_usage_error")
