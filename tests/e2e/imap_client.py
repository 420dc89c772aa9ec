#!/usr/bin/python3
"""IMAP client for the Dovecot end-to-end test.

usage: imap_client.py PORT SOURCE_IP METHOD USER TOKEN
METHOD: login | plain | xoauth2 | oauthbearer[-VARIANT] (see
oauthbearer_msg.py). Exit 0 when logged in (and a
SELECT INBOX worked), 1 only when the server itself answered the login with
its refusal (a tagged NO [AUTHENTICATIONFAILED]), 2 on anything else: a
connection refused or cut is never counted as a refusal.
Each client uses its own 127.0.0.N source so Dovecot's per-IP failure delay
never slows the next one.
"""
import imaplib
import socket
import sys

from oauthbearer_msg import oauthbearer_message

port, src, method, user, token = sys.argv[1:6]


class Client(imaplib.IMAP4):
    def _create_socket(self, timeout):
        return socket.create_connection(("127.0.0.1", port), timeout or 30,
                                        source_address=(src, 0))


def main():
    c = Client("127.0.0.1", int(port), timeout=30)
    sent = []

    def auth(payload, on_error):
        def cb(challenge):
            if not sent:
                sent.append(1)
                return payload
            return on_error  # the server's error challenge: finish the exchange
        return cb
    try:
        if method == "login":
            c.login(user, token)
        elif method == "plain":
            c.authenticate("PLAIN", auth(b"\0" + user.encode() + b"\0" + token.encode(), b""))
        elif method == "xoauth2":
            c.authenticate("XOAUTH2", auth(
                ("user=%s\x01auth=Bearer %s\x01\x01" % (user, token)).encode(), b""))
        elif method.startswith("oauthbearer"):
            c.authenticate("OAUTHBEARER", auth(
                oauthbearer_message(method, user, port, token).encode(), b"\x01"))
        else:
            return 2
    except imaplib.IMAP4.error as e:
        # imaplib raises this for NO and BAD alike: only the server's own
        # authentication refusal counts
        if "AUTHENTICATIONFAILED" in str(e) or "Authentication failed" in str(e):
            return 1
        print("imap_client: not a refusal: %s" % e, file=sys.stderr)
        return 2
    typ, _ = c.select("INBOX")
    c.logout()
    return 0 if typ == "OK" else 2


try:
    sys.exit(main())
except Exception as e:  # noqa: BLE001 - anything but the server's refusal is 2
    print("imap_client: %r" % e, file=sys.stderr)
    sys.exit(2)
