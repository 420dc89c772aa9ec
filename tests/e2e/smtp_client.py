#!/usr/bin/python3
"""SMTP client for the Postfix end-to-end test.

usage: smtp_client.py PORT SOURCE_IP MECH USER TOKEN [RCPT]
MECH: oauthbearer[-VARIANT] (see oauthbearer_msg.py) | xoauth2. Exit 0
authenticated (and, with RCPT, the message accepted for delivery), 1 only
when the server answered AUTH with its 535 refusal, 2 anything else (a
connection refused is never a refusal).
"""
import smtplib
import sys

from oauthbearer_msg import oauthbearer_message

port, src, mech, user, token = sys.argv[1:6]
rcpt = sys.argv[6] if len(sys.argv) > 6 else None


def main():
    s = smtplib.SMTP("127.0.0.1", int(port), source_address=(src, 0), timeout=30)
    s.ehlo("client.example.com")
    if mech.startswith("oauthbearer"):
        first = oauthbearer_message(mech, user, port, token)
        ack = "\x01"
    else:
        first = "user=%s\x01auth=Bearer %s\x01\x01" % (user, token)
        ack = ""
    calls = []

    def authobject(challenge=None):
        calls.append(challenge)
        return first if len(calls) == 1 else ack
    try:
        s.auth(mech.split("-")[0].upper(), authobject, initial_response_ok=True)
    except smtplib.SMTPAuthenticationError as e:
        return 1 if e.smtp_code == 535 else 2
    if rcpt:
        s.sendmail(user + "@example.com", [rcpt],
                   "From: %s@example.com\r\nTo: %s\r\nSubject: tokenscope e2e\r\n\r\nhello\r\n"
                   % (user, rcpt))
    s.quit()
    return 0


try:
    sys.exit(main())
except Exception as e:  # noqa: BLE001 - anything but the server's 535 is 2
    print("smtp_client: %r" % e, file=sys.stderr)
    sys.exit(2)
