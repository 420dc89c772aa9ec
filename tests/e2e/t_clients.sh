#!/bin/sh
# t_clients.sh: the end-to-end clients count only a server's own refusal reply
# as a refusal. Against a closed port, and against a server that answers
# something other than its authentication refusal, they must exit 2, never 1,
# or a refusal test could pass with no server running at all. Needs no root.
set -u
: "${TS_SRCDIR:?}"
PY=/usr/bin/python3
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi; }
E="$TS_SRCDIR/tests/e2e"
closed=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

"$PY" "$E/imap_client.py" "$closed" 127.0.0.1 login alice tok 2>/dev/null
ok $(($? != 2)) "imap_client_connection_refused_is_not_a_refusal"
"$PY" "$E/smtp_client.py" "$closed" 127.0.0.1 xoauth2 alice tok 2>/dev/null
ok $(($? != 2)) "smtp_client_connection_refused_is_not_a_refusal"
if "$PY" -c "import paramiko" 2>/dev/null; then
	"$PY" "$E/ssh_client.py" "$closed" alice tok 2>/dev/null
	ok $(($? != 2)) "ssh_client_connection_refused_is_not_a_refusal"
fi

# a one-connection fake server: banner, then REPLY to the first command
fake() {
	"$PY" - "$1" "$2" <<'PYEOF' &
import socket, sys
banner, reply = sys.argv[1].encode() + b"\r\n", sys.argv[2].encode() + b"\r\n"
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(1); s.settimeout(20)
print(s.getsockname()[1], flush=True)
c, _ = s.accept(); c.settimeout(10); c.sendall(banner)
f = c.makefile("rb")
while True:
    line = f.readline()
    if not line:
        break
    if line.upper().startswith((b"EHLO", b"HELO")):
        c.sendall(b"250-fake\r\n250 AUTH XOAUTH2\r\n")
        continue
    tag = line.split(b" ")[0]
    if b"CAPABILITY" in line.upper():
        c.sendall(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + b" OK done\r\n")
        continue
    if line.upper().startswith(b"QUIT") or b"LOGOUT" in line.upper():
        break
    c.sendall(reply.replace(b"TAG", tag))
c.close()
PYEOF
}
port_of() { for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$1" ] && break; sleep 0.2; done; head -1 "$1"; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fake "* OK fake" "TAG NO [AUTHENTICATIONFAILED] Authentication failed." >"$T/p1"
"$PY" "$E/imap_client.py" "$(port_of "$T/p1")" 127.0.0.1 login alice tok 2>/dev/null
ok $(($? != 1)) "imap_client_counts_NO_AUTHENTICATIONFAILED_as_a_refusal"
fake "* OK fake" "TAG BAD unknown command" >"$T/p2"
"$PY" "$E/imap_client.py" "$(port_of "$T/p2")" 127.0.0.1 login alice tok 2>/dev/null
ok $(($? != 2)) "imap_client_BAD_is_not_a_refusal"
fake "220 fake" "535 5.7.8 Error: authentication failed" >"$T/p3"
"$PY" "$E/smtp_client.py" "$(port_of "$T/p3")" 127.0.0.1 xoauth2 alice tok 2>/dev/null
ok $(($? != 1)) "smtp_client_counts_535_as_a_refusal"
fake "220 fake" "454 4.7.0 Temporary authentication failure" >"$T/p4"
"$PY" "$E/smtp_client.py" "$(port_of "$T/p4")" 127.0.0.1 xoauth2 alice tok 2>/dev/null
ok $(($? != 2)) "smtp_client_454_is_not_a_refusal"
wait
echo "1..$n"
exit $failed
