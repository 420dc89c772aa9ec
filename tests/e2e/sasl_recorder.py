#!/usr/bin/python3
"""A one-connection IMAP or SMTP server that records what a client sends to
authenticate, for the mail-client end-to-end test.

usage: sasl_recorder.py imap|smtp MECHS OUTFILE
Prints its port, offers the SASL mechanisms MECHS (space-separated), takes
one AUTHENTICATE / AUTH (with or without an initial response), writes the
decoded message to OUTFILE with the bearer token replaced by <token> and
\\x01 shown as ^A, and refuses the login (IMAP NO, SMTP 535), so the client
ends. Never a token on disk: only its shape.
"""
import base64
import re
import socket
import sys

proto, mechs, outfile = sys.argv[1], sys.argv[2].split(), sys.argv[3]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(1)
s.settimeout(30)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
c.settimeout(20)
f = c.makefile("rb")


def send(line):
    c.sendall(line.encode() + b"\r\n")


def record(b64):
    msg = base64.b64decode(b64).decode("latin-1")
    msg = re.sub(r"(?i)(bearer )[A-Za-z0-9._~+/=-]+", r"\1<token>", msg)
    with open(outfile, "w") as o:
        o.write(msg.replace("\x01", "^A") + "\n")


def read():
    line = f.readline()
    if not line:
        sys.exit(0)
    return line.decode("latin-1").rstrip("\r\n")


def take(words, at, prompt):
    """The client's message: its initial response, or its answer to prompt."""
    if len(words) > at:
        record(words[at])
    else:
        send(prompt)
        record(read())


if proto == "imap":
    caps = "IMAP4rev1 SASL-IR " + " ".join("AUTH=" + m for m in mechs)
    send("* OK [CAPABILITY %s] recorder ready" % caps)
    while True:
        words = read().split(" ")
        tag, cmd = words[0], words[1].upper() if len(words) > 1 else ""
        if cmd == "CAPABILITY":
            send("* CAPABILITY " + caps)
            send(tag + " OK done")
        elif cmd == "AUTHENTICATE":
            take(words, 3, "+ ")
            send(tag + " NO [AUTHENTICATIONFAILED] recorded")
        elif cmd == "LOGOUT":
            send("* BYE")
            send(tag + " OK done")
            break
        else:
            send(tag + " BAD recorder")
else:
    send("220 recorder ESMTP")
    while True:
        words = read().split(" ")
        cmd = words[0].upper()
        if cmd in ("EHLO", "HELO"):
            send("250-recorder")
            send("250 AUTH " + " ".join(mechs))
        elif cmd == "AUTH":
            take(words, 2, "334 ")
            send("535 5.7.8 recorded")
        elif cmd == "QUIT":
            send("221 bye")
            break
        else:
            send("502 recorder")
c.close()
