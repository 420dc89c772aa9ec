#!/usr/bin/python3
"""Integration test of tokenscope-introspect over loopback and a unix socket.

usage: t_introspect.py DAEMON TOKENSCOPE_CLI WORKDIR FIXTURES
WORKDIR holds the test policy (tokenscope.conf, keys, revoked-keys,
fresh.json from mint_now.py). Prints TAP. The daemon is started and stopped
here; every case names the SECURITY.md rule it holds.
"""
import base64
import hashlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

daemon, cli, W, fx = sys.argv[1:5]
n = 0
failed = 0


def ok(cond, name):
    global n, failed
    n += 1
    if not cond:
        failed = 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n, name), flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


fresh = json.load(open(W + "/fresh.json"))["tokens"]
cases = json.load(open(fx + "/tokens.json"))["cases"]
SECRETS = {"dovecot": "dovecot-secret-1", "web": "web-secret-2", "slow": "slow-secret-3",
           "suite": "suite-secret-4"}


def h(s):
    return hashlib.sha256(s.encode()).hexdigest()


with open(W + "/clients", "w") as f:
    f.write("# test clients\n")
    f.write("dovecot %s services=dovecot,smtp protocols=imap:dovecot,smtp:smtp trust_remote=yes\n"
            % h(SECRETS["dovecot"]))
    f.write("web %s services=smtp\n" % h(SECRETS["web"]))
    f.write("slow %s services=dovecot rate=3\n" % h(SECRETS["slow"]))
    f.write("suite %s services=dovecot,smtp,ftp rate=100000\n" % h(SECRETS["suite"]))
    f.write("local - services=dovecot peer_uid=%d\n" % os.getuid())
os.chmod(W + "/clients", 0o600)

PORT = free_port()
SOCK = W + "/introspect.sock"
LOG = W + "/introspect.log"
args = [daemon, "-c", W + "/tokenscope.conf", "-k", W + "/clients", "-l", "127.0.0.1:%d" % PORT,
        "-l", "unix:" + SOCK, "--log-stderr", "--max-connections", "40", "--idle-timeout", "2",
        "--request-timeout", "2", "--threads", "2"]
RUN_AS = os.environ.get("TS_INTROSPECT_USER") or "nobody"
if os.getuid() == 0:
    args += ["-u", RUN_AS]
logf = open(LOG, "wb")
proc = subprocess.Popen(args, stderr=logf)
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", PORT), timeout=1).close()
        break
    except OSError:
        time.sleep(0.05)


def basic(name, secret=None):
    return "Basic " + base64.b64encode(("%s:%s" % (name, secret or SECRETS[name])).encode()).decode()


def req(method, path, body=None, headers=None, conn=None):
    c = conn or http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    hd = dict(headers or {})
    if body is not None and "Content-Type" not in hd:
        hd["Content-Type"] = "application/x-www-form-urlencoded"
    c.request(method, path, body=body, headers=hd)
    r = c.getresponse()
    data = r.read()
    if conn is None:
        c.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data


def post(token, client="dovecot", path="/introspect/dovecot", extra=None, secret=None):
    hd = {"Authorization": basic(client, secret)}
    hd.update(extra or {})
    return req("POST", path, "token=" + token, hd)


def log_lines(needle):
    """The daemon's log lines holding needle, once one is there (5 s at most:
    the daemon writes its line after the client has seen the close)."""
    for _ in range(100):
        lines = [ln for ln in open(LOG, "rb").read().splitlines() if needle in ln]
        if lines:
            return lines
        time.sleep(0.05)
    return []


def claims(tok):
    p = tok.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


good = fresh["good_corp_es256"]
INACTIVE = b'{"active":false}'

# ---- RFC 7662 answers, member by member ----
st, hd, body = post(good)
j = json.loads(body)
c = claims(good)
ok(st == 200 and j.get("active") is True, "N_post_good_token_active_true")
ok(j.get("username") == "alice", "C6_username_is_the_mapped_user")
ok(j.get("iss") == c["iss"], "rfc7662_iss_is_the_tokens_issuer")
ok(j.get("sub") == c["sub"], "rfc7662_sub_is_the_tokens_sub")
ok(j.get("jti") == c["jti"], "rfc7662_jti_is_the_tokens_jti")
ok(j.get("exp") == c["exp"] and isinstance(j.get("exp"), int), "rfc7662_exp_is_the_tokens_exp_as_integer")
ok(j.get("token_type") == "Bearer", "rfc7662_token_type_bearer")
ok(set(j) <= {"active", "username", "iss", "sub", "jti", "exp", "token_type"},
   "rfc7662_no_members_beyond_those_the_core_reports_exactly (%s)" % sorted(j))
ok(hd.get("content-type") == "application/json" and hd.get("cache-control") == "no-store",
   "rfc7662_json_content_type_and_no_store")
ok("x-tokenscope-user" not in hd, "post_answer_has_no_user_header")
st, hd, body = post(fresh["K1_partner_key_claims_corp_issuer"])
ok(st == 200 and body == INACTIVE, "N4_K1_forged_is_exactly_active_false")
st, hd, body = post("not-a-token")
ok(st == 200 and body == INACTIVE, "N4_malformed_token_is_exactly_active_false")
st, hd, body = req("POST", "/introspect/dovecot", "token=%s&token_type_hint=refresh_token" % good,
                   {"Authorization": basic("dovecot")})
ok(st == 200 and json.loads(body)["active"] is True, "rfc7662_token_type_hint_ignored")
st, hd, body = req("POST", "/introspect/dovecot",
                   "token=%s" % good.replace(".", "%2E").replace("-", "%2d"),
                   {"Authorization": basic("dovecot")})
ok(st == 200 and json.loads(body)["active"] is True, "form_percent_encoding_decoded")

# ---- client authentication (N2) ----
st, hd, body = req("POST", "/introspect/dovecot", "token=" + good)
ok(st == 401 and hd.get("www-authenticate", "").startswith("Basic "), "N2_missing_client_credentials_401")
st, hd, body = post(good, secret="wrong")
ok(st == 401 and b"active" not in body, "N2_wrong_client_secret_401_no_decision")
st, hd, body = post(good, client="nobody", secret="x")
ok(st == 401, "N2_unknown_client_401")
st, hd, body = req("POST", "/introspect/dovecot", "token=" + good, {"Authorization": "Basic !!!"})
ok(st == 401, "N2_garbled_basic_401")
st, hd, body = req("POST", "/introspect/dovecot", "token=" + good, {"Authorization": "Bearer " + good})
ok(st == 401, "N2_post_with_bearer_instead_of_client_credentials_401")

# ---- service selection (N3) ----
st, hd, body = post(good, client="web", path="/introspect/dovecot")
ok(st == 403 and b"active" not in body, "N3_client_cannot_pick_a_service_it_was_not_given_403")
st, hd, body = post(fresh["good_smtp"], client="web", path="/introspect")
ok(st == 200 and json.loads(body)["active"] is True, "N3_single_service_client_gets_its_service")
st, hd, body = post(good, client="web", path="/introspect", extra={"X-Dovecot-Auth-Protocol": "imap"})
ok(st == 403 or (st == 200 and body == INACTIVE),
   "N3_protocol_header_cannot_widen_a_clients_services")
st, hd, body = post(good, path="/introspect", extra={"X-Dovecot-Auth-Protocol": "imap"})
ok(st == 200 and json.loads(body)["active"] is True, "N3_protocol_map_imap_to_dovecot")
st, hd, body = post(good, path="/introspect", extra={"X-Dovecot-Auth-Service": "imap"})
ok(st == 200 and json.loads(body)["active"] is True, "N3_dovecot_2_3_service_header_mapped_too")
st, hd, body = post(good, path="/introspect", extra={"X-Dovecot-Auth-Protocol": "smtp"})
ok(st == 200 and body == INACTIVE, "N3_protocol_map_smtp_to_smtp_refuses_an_imap_token")
st, hd, body = post(good, path="/introspect", extra={"X-Dovecot-Auth-Protocol": "pop3"})
ok(st == 403, "N3_unmapped_protocol_on_a_multi_service_client_403")
st, hd, body = post(good, path="/introspect", extra={"X-Dovecot-Auth-Protocol": "dovecot"})
ok(st == 403, "N3_protocol_value_is_not_a_service_name")
st, hd, body = post(good, path="/introspect/ftp")
ok(st == 403, "N3_path_service_outside_the_clients_list_403")

# ---- GET with Authorization: Bearer ----
st, hd, body = req("GET", "/introspect/dovecot", None,
                   {"Authorization": "Bearer " + good, "X-Tokenscope-Client-Authorization": basic("dovecot")})
ok(st == 200 and hd.get("x-tokenscope-user") == "alice" and json.loads(body)["username"] == "alice",
   "N_get_bearer_good_200_with_user_header")
st, hd, body = req("GET", "/introspect/dovecot", None,
                   {"Authorization": "Bearer " + fresh["C1_expired_long_ago"],
                    "X-Tokenscope-Client-Authorization": basic("dovecot")})
ok(st == 401 and hd.get("www-authenticate") == 'Bearer realm="tokenscope-introspect", error="invalid_token"'
   and body == INACTIVE and "x-tokenscope-user" not in hd, "N4_get_refused_401_invalid_token")
st, hd, body = req("GET", "/introspect/dovecot", None, {"X-Tokenscope-Client-Authorization": basic("dovecot")})
ok(st == 401 and hd.get("www-authenticate", "").startswith("Bearer"), "get_without_bearer_401")
st, hd, body = req("GET", "/introspect/dovecot", None, {"Authorization": "Bearer " + good})
ok(st == 401 and hd.get("www-authenticate", "").startswith("Basic"), "N2_get_without_client_credentials_401")

# ---- unix socket peer credentials ----
class UConn(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(SOCK)


st, hd, body = req("POST", "/introspect/dovecot", "token=" + good, {}, conn=UConn("x"))
ok(st == 200 and json.loads(body)["active"] is True, "N2_unix_peer_uid_authenticates_its_client")
st, hd, body = req("POST", "/introspect/dovecot", "token=" + good, {}, conn=UConn("x"))
ok(st == 200, "unix_socket_keep_alive_second_request")
st, hd, body = req("POST", "/introspect/dovecot", "token=" + good,
                   {"Authorization": basic("dovecot", "wrong")}, conn=UConn("x"))
ok(st == 401, "N2_wrong_credentials_on_the_unix_socket_are_not_overridden_by_the_peer_uid")
st, hd, body = req("POST", "/introspect/dovecot", "token=" + good)
ok(st == 401, "N2_peer_uid_counts_only_on_the_unix_socket")

# ---- status codes for malformed requests ----
st, hd, body = req("PUT", "/introspect/dovecot", "token=" + good, {"Authorization": basic("dovecot")})
ok(st == 405 and "GET" in hd.get("allow", ""), "method_not_allowed_405")
st, hd, body = req("POST", "/other", "token=" + good, {"Authorization": basic("dovecot")})
ok(st == 404, "unknown_path_404")
st, hd, body = req("POST", "/introspect/dovecot/x", "token=" + good, {"Authorization": basic("dovecot")})
ok(st == 404, "nested_path_404")
st, hd, body = req("POST", "/introspect/dovecot", json.dumps({"token": good}),
                   {"Authorization": basic("dovecot"), "Content-Type": "application/json"})
ok(st == 415, "json_body_415")
st, hd, body = req("POST", "/introspect/dovecot", "nottoken=" + good, {"Authorization": basic("dovecot")})
ok(st == 400, "no_token_parameter_400")
st, hd, body = req("POST", "/introspect/dovecot", "token=%s&token=%s" % (good, good),
                   {"Authorization": basic("dovecot")})
ok(st == 400, "repeated_token_parameter_400")
st, hd, body = req("POST", "/introspect/dovecot", "token=%zz", {"Authorization": basic("dovecot")})
ok(st == 400, "bad_percent_escape_400")
# two Authorization headers: refused, never one of them picked
s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
b = ("token=" + good).encode()
s.sendall(b"POST /introspect/dovecot HTTP/1.1\r\nHost: x\r\nAuthorization: " + basic("web").encode() +
          b"\r\nAuthorization: " + basic("dovecot").encode() +
          b"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n" % len(b) + b)
resp = s.recv(4096)
s.close()
ok(resp.startswith(b"HTTP/1.1 400"), "repeated_authorization_header_400")
# a header name with a space before the colon: the library takes it as a
# header of its own ("Authorization "), a proxy may take it as the same one;
# RFC 9112 5.1 says 400, and no client is picked
s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
s.sendall(b"POST /introspect/dovecot HTTP/1.1\r\nHost: x\r\nAuthorization : " + basic("dovecot").encode() +
          b"\r\nAuthorization: " + basic("web").encode() +
          b"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n" % len(b) + b)
resp = s.recv(4096)
s.close()
ok(resp.startswith(b"HTTP/1.1 400") and b"active" not in resp, "N2_header_name_with_whitespace_400")
s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
s.sendall(b"\x16\x03\x01 garbage\r\n\r\n")
resp = s.recv(4096)
s.close()
ok(resp.startswith(b"HTTP/1.1 400") or resp == b"", "garbage_request_line_refused (%r)" % resp[:20])

# ---- limits (N5) ----
big = "A" * 20000
st, hd, body = req("POST", "/introspect/dovecot", "token=" + big, {"Authorization": basic("dovecot")})
ok(st == 413, "N5_body_over_the_cap_413")
s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
s.sendall(b"POST /introspect/dovecot HTTP/1.1\r\nHost: x\r\nAuthorization: " + basic("dovecot").encode() +
          b"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000000\r\n\r\n")
resp = s.recv(4096)
s.close()
ok(resp.startswith(b"HTTP/1.1 413"), "N5_declared_huge_body_413_before_reading")
# a close with the client's bytes still unread is a reset the client sees
# without a word from the library: the daemon says so (here a request that
# asked for the close, with more bytes sent behind it than the library reads:
# one send of under 64 KiB, a single segment on loopback, so that all of it
# is in the socket before the library answers)
s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
s.sendall((b"GET /introspect/dovecot HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" +
           b"GET /introspect/dovecot HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"A" * 60000)[:60000])
try:
    resp = s.recv(4096)
except OSError:
    resp = b""
s.close()
ok(log_lines(b"unread bytes (the peer sees a reset) after 1 answers") != [],
   "N5_close_with_unread_request_bytes_is_logged (%r)" % resp[:12])
st, hd, body = req("GET", "/introspect/dovecot", None,
                   {"Authorization": "Bearer " + "A" * 60000, "X-Tokenscope-Client-Authorization": basic("dovecot")})
ok(400 <= st < 500, "N5_header_over_the_cap_4xx (%d)" % st)
st, hd, body = req("POST", "/introspect/dovecot", "token=" + "A" * 9000, {"Authorization": basic("dovecot")})
ok(st == 200 and body == INACTIVE, "P1_token_just_over_max_token_size_is_inactive_not_an_error")
# slow: a request that stops half-way loses its connection; others are served meanwhile
s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
s.sendall(b"POST /introspect/dovecot HTTP/1.1\r\nHost: x\r\n")
t0 = time.time()
st, hd, body = post(good)
ok(st == 200, "N5_others_served_while_a_slow_request_waits")
s.settimeout(10)
try:
    r = s.recv(4096)
except OSError:
    r = b""
ok(time.time() - t0 < 6 and (r == b"" or r.startswith(b"HTTP/1.1 4")), "N5_slow_request_cut_by_the_idle_timeout")
s.close()
# a request cut after its headers is a login failed without a status: the
# library says nothing of its idle timeout, the daemon logs the reason and
# where the request stood
s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
s.sendall(b"POST /introspect/dovecot HTTP/1.1\r\nHost: x\r\nAuthorization: " + basic("dovecot").encode() +
          b"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ntoken=abcd")
try:
    r = s.recv(4096)
except OSError:
    r = b""
s.close()
cut = log_lines(b"request ended without a complete answer (idle timeout)")
ok(r == b"" and len(cut) == 1 and b"10 body bytes in, answer not made, 0 answers before" in cut[0]
   and b"abcd" not in cut[0], "N5_request_cut_mid_body_is_logged_with_its_reason (%r)" % cut)
# rate: the "slow" client may make 3 a second (burst 6)
codes = [post(good, client="slow")[0] for _ in range(12)]
ok(codes.count(429) > 0 and codes[0] == 200, "N5_client_over_its_rate_gets_429 (%s)" % codes)
st, hd, body = post(good)
ok(st == 200, "N5_rate_of_one_client_does_not_cost_another")
# connections: over --max-connections, the newcomers get 429 and others go on
held = []
for _ in range(45):
    try:
        held.append(socket.create_connection(("127.0.0.1", PORT), timeout=5))
    except OSError:
        break
time.sleep(0.3)
hc = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
try:
    st, hd, body = post(good)
except Exception as e:
    st = str(e)
ok(st == 429, "N5_over_the_connection_limit_429 (%s)" % st)
for x in held:
    x.close()
time.sleep(0.5)
st, hd, body = post(good)
ok(st == 200, "N5_served_again_once_connections_close")

# ---- the same decision as `tokenscope verify` for the policy suite ----
diff = []
count = 0
for cs in cases:
    if cs["boundary"] or cs["name"] not in fresh:
        continue
    tok = fresh[cs["name"]]
    cmd = [cli, "verify", "-c", W + "/tokenscope.conf", "-s", cs["service"]]
    if cs["user"] is not None:
        cmd += ["-u", cs["user"]]
    v = subprocess.run(cmd + ["-"], input=tok.encode(), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL).returncode
    st, hd, body = post(tok, client="suite", path="/introspect/" + cs["service"])
    j = json.loads(body) if st == 200 else {}
    d = j.get("active") is True and (cs["user"] is None or j.get("username") == cs["user"])
    count += 1
    if (v == 0) != d or v not in (0, 1) or (not d and body != INACTIVE and st == 200 and j.get("active") is not True):
        diff.append("%s verify=%d daemon=%s" % (cs["name"], v, body[:40]))
ok(not diff and count > 60, "same_decision_as_tokenscope_verify_for_%d_policy_cases %s" % (count, diff[:3]))

# ---- reload while requests run ----
stop = threading.Event()
results = []


def hammer():
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    while not stop.is_set():
        try:
            st, hd, body = req("POST", "/introspect/dovecot", "token=" + good,
                               {"Authorization": basic("suite")}, conn=c)
            results.append((st, json.loads(body).get("active")))
        except Exception as e:
            results.append(("error", str(e)))
            c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)


ths = [threading.Thread(target=hammer) for _ in range(4)]
for t in ths:
    t.start()
time.sleep(0.5)
tp = json.load(open(fx + "/tokens.json"))["thumbprints"]
# revoke the p256 key that signs `good` (K6/K11: taking trust away applies at the next check)
p256_tp = subprocess.run([cli, "keys", "-c", W + "/tokenscope.conf"], capture_output=True, text=True).stdout
line = [l for l in p256_tp.splitlines() if "corp-1" in l]
thumb = None
for w in (line[0].split() if line else []):
    # a thumbprint is 43 base64url characters (a path may be 43 long too)
    if re.fullmatch(r"[A-Za-z0-9_-]{43}", w):
        thumb = w
with open(W + "/revoked-keys.new", "w") as f:
    f.write(tp["ed448"] + "\n" + (thumb or "") + "\n")
os.chmod(W + "/revoked-keys.new", 0o644)
os.rename(W + "/revoked-keys.new", W + "/revoked-keys")
proc.send_signal(signal.SIGHUP)
time.sleep(1.0)
stop.set()
for t in ths:
    t.join()
errors = [r for r in results if r[0] != 200]
seq = [r[1] for r in results if r[0] == 200]
ok(thumb is not None, "found_the_thumbprint_of_corp-1")
ok(not errors and len(results) > 50, "N_reload_while_requests_run_no_error (%d requests, %d errors)"
   % (len(results), len(errors)))
ok(True in seq and seq[-1] is False, "K11_revocation_applies_while_serving (first %s, last %s)"
   % (seq[:1], seq[-1:]))
st, hd, body = post(good)
ok(st == 200 and body == INACTIVE, "K6_revoked_key_refused_after_the_reload")

# ---- logs ----
proc.send_signal(signal.SIGTERM)
try:
    rc = proc.wait(timeout=15)
except subprocess.TimeoutExpired:
    proc.kill()
    rc = "timeout"
ok(rc == 0, "N_sigterm_drains_and_exits_0 (%s)" % rc)
logf.close()
log = open(LOG, "rb").read()
ok(b"reason=unknown_key" in log and b"reason=client_auth_failed" in log and b"reason=service_not_allowed" in log,
   "N4_reasons_go_to_the_log")
ok(b"rhost=127.0.0.1 " in log or b"rhost=127.0.0.1\n" in log, "log_rhost_is_the_peer")
leaked = [k for k, t in fresh.items() if t[:40].encode() in log and len(t) > 40]
ok(not leaked, "M3_no_token_in_the_log %s" % leaked[:2])
ok(not any(s.encode() in log for s in SECRETS.values()) and base64.b64encode(b"dovecot:").decode().encode() not in log,
   "M3_no_client_credential_in_the_log")

# ---- N1: where it listens ----
for spec, why in (("0.0.0.0:%d" % free_port(), "any_address"), ("192.0.2.1:%d" % free_port(), "other_address"),
                  ("[::]:%d" % free_port(), "ipv6_any")):
    r = subprocess.run([daemon, "-c", W + "/tokenscope.conf", "-k", W + "/clients", "-l", spec, "--log-stderr"]
                       + (["-u", RUN_AS] if os.getuid() == 0 else []), capture_output=True, text=True, timeout=20)
    ok(r.returncode == 1 and "--allow-nonlocal" in r.stderr, "N1_%s_refused_without_allow_nonlocal" % why)
r = subprocess.run([daemon, "-c", W + "/tokenscope.conf", "-k", W + "/clients", "-l", "unix:" + W + "/x.sock",
                    "--socket-mode", "0666"], capture_output=True, text=True, timeout=20)
ok(r.returncode == 2 and not os.path.exists(W + "/x.sock"), "N1_unix_socket_never_open_to_others")
# a directory where others could swap the socket's name for a link between
# bind and the chown that follows (as root) is refused
os.makedirs(W + "/open", exist_ok=True)
os.chmod(W + "/open", 0o777)
r = subprocess.run([daemon, "-c", W + "/tokenscope.conf", "-k", W + "/clients", "-l", "unix:" + W + "/open/x.sock",
                    "--log-stderr"] + (["-u", RUN_AS] if os.getuid() == 0 else []),
                   capture_output=True, text=True, timeout=20)
ok(r.returncode != 0 and "not sticky" in r.stderr and not os.path.exists(W + "/open/x.sock"),
   "N1_unix_socket_in_a_directory_others_may_write_refused")
has6 = True
try:
    socket.socket(socket.AF_INET6).bind(("::1", 0))
except OSError:
    has6 = False
if has6:
    p6 = free_port()
    d6 = subprocess.Popen([daemon, "-c", W + "/tokenscope.conf", "-k", W + "/clients", "-l", "[::1]:%d" % p6,
                           "--log-stderr"] + (["-u", RUN_AS] if os.getuid() == 0 else []),
                          stderr=subprocess.DEVNULL)
    st6 = None
    for _ in range(100):
        try:
            c6 = http.client.HTTPConnection("::1", p6, timeout=5)
            c6.request("POST", "/introspect/dovecot", "token=" + good,
                       {"Authorization": basic("dovecot"), "Content-Type": "application/x-www-form-urlencoded"})
            st6 = c6.getresponse().status
            break
        except OSError:
            time.sleep(0.05)
    d6.send_signal(signal.SIGTERM)
    d6.wait(timeout=15)
    ok(st6 == 200, "N1_ipv6_loopback_served")


def systemd_start(addr):
    """The daemon with a listening socket handed over as systemd does (fd 3,
    LISTEN_PID, LISTEN_FDS)."""
    ls = socket.socket()
    ls.bind((addr, 0))
    ls.listen(16)
    fd = ls.fileno()
    cmd = ('exec 3<&%d %d<&-; LISTEN_PID=$$ LISTEN_FDS=1; export LISTEN_PID LISTEN_FDS; exec "$@"' % (fd, fd))
    p = subprocess.Popen(["/bin/sh", "-c", cmd, "sh", daemon, "-c", W + "/tokenscope.conf", "-k", W + "/clients",
                          "--log-stderr"] + (["-u", RUN_AS] if os.getuid() == 0 else []),
                         pass_fds=(fd,), stderr=subprocess.PIPE, text=True)
    port_ = ls.getsockname()[1]
    ls.close()
    return p, port_


sp, sport = systemd_start("127.0.0.1")
st_sd = None
try:
    c = http.client.HTTPConnection("127.0.0.1", sport, timeout=10)
    c.request("POST", "/introspect/dovecot", "token=" + good,
              {"Authorization": basic("dovecot"), "Content-Type": "application/x-www-form-urlencoded"})
    st_sd = c.getresponse().status
except OSError as e:
    st_sd = str(e)
sp.send_signal(signal.SIGTERM)
sp.wait(timeout=15)
ok(st_sd == 200, "N1_systemd_socket_on_loopback_served (%s)" % st_sd)
sp, sport = systemd_start("0.0.0.0")
try:
    err = sp.communicate(timeout=15)[1]
except subprocess.TimeoutExpired:
    sp.kill()
    err = ""
ok(sp.returncode == 1 and "--allow-nonlocal" in err, "N1_systemd_socket_on_any_address_refused")

# ---- M8: log_format = json, the daemon's lines as a SIEM reads them ----
with open(W + "/tokenscope.conf") as f:
    jconf = f.read().replace("[global]\n", "[global]\nlog_format = json\n", 1)
with open(W + "/json.conf", "w") as f:
    f.write(jconf)
os.chmod(W + "/json.conf", 0o644)
jport = free_port()
jp = subprocess.Popen([daemon, "-c", W + "/json.conf", "-k", W + "/clients", "-l", "127.0.0.1:%d" % jport,
                       "--log-stderr", "--threads", "1"] + (["-u", RUN_AS] if os.getuid() == 0 else []),
                      stderr=subprocess.PIPE, text=True)
jst = []
# p256 is revoked by now (K6 above): a token under rsa2048 for the accept
for tok in (fresh["good_corp_rs256_shared_kid"], fresh["K1_partner_key_claims_corp_issuer"]):
    for _ in range(100):
        try:
            c = http.client.HTTPConnection("127.0.0.1", jport, timeout=10)
            c.request("POST", "/introspect/dovecot", "token=" + tok,
                      {"Authorization": basic("dovecot"), "Content-Type": "application/x-www-form-urlencoded"})
            jst.append(json.loads(c.getresponse().read()).get("active"))
            break
        except OSError:
            time.sleep(0.05)
jp.send_signal(signal.SIGTERM)
jerr = jp.communicate(timeout=15)[1]
jlines = [json.loads(l.split("tokenscope: ", 1)[1]) for l in jerr.splitlines() if "tokenscope: {" in l]
ok(jst == [True, False] and [o["event"] for o in jlines][:3] == ["decision", "decision", "alert"]
   and jlines[0]["result"] == "accept" and jlines[1]["reason"] == "unknown_key"
   and jlines[1]["alert"] == "forged_cross_issuer" and jlines[2]["key_issuer"] == "partner",
   "M8_introspect_json_decision_and_alert_lines (%s)" % [o.get("event") for o in jlines])
ok(jst and "thread pool" not in jerr and "libmicrohttpd" not in jerr,
   "N5_one_thread_starts_and_answers_without_a_library_warning")

# ---- --check-config: the start-up steps as the service user ----
cc = subprocess.run([daemon, "--check-config", "-c", W + "/tokenscope.conf", "-k", W + "/clients"]
                    + (["-u", RUN_AS] if os.getuid() == 0 else []), capture_output=True, text=True)
ok(cc.returncode == 1 and "service ftp, which has no [service] section" in cc.stderr,
   "check_config_warns_about_a_client_service_without_a_section")
if os.getuid() == 0 and RUN_AS == "nobody":
    os.chmod(W + "/p256.pub.pem", 0o600)
    cc = subprocess.run([daemon, "--check-config", "-c", W + "/tokenscope.conf", "-k", W + "/clients",
                         "-u", "nobody"], capture_output=True, text=True)
    os.chmod(W + "/p256.pub.pem", 0o644)
    ok(cc.returncode == 1 and "p256.pub.pem" in cc.stderr,
       "check_config_says_when_the_service_user_cannot_read_a_key_file (%s)" % cc.stderr.strip()[-80:])
os.chmod(W + "/clients", 0o644)
cc = subprocess.run([daemon, "--check-config", "-c", W + "/tokenscope.conf", "-k", W + "/clients"],
                    capture_output=True, text=True)
ok(cc.returncode == 1 and "clients" in cc.stderr, "N2_clients_file_readable_by_others_refused")
os.chmod(W + "/clients", 0o600)
print("1..%d" % n)
sys.exit(failed)
