#!/usr/bin/python3
"""SSH keyboard-interactive client for the sshd end-to-end test.

usage: ssh_client.py PORT USER TOKEN [PART_LEN]
Answers every prompt with the token, then runs a command. With PART_LEN, the
n-th prompt gets the n-th PART_LEN-byte part of the token instead, and ""
once it is all sent (pam_token's multipart). Prints the
command's output; exit 0 logged in, 1 only when the server refused the
authentication in the protocol (after its banner and key exchange), 2 anything
else: a connection refused or a failed key exchange is never a refusal.
"""
import sys

import paramiko

port, user, token = int(sys.argv[1]), sys.argv[2], sys.argv[3]
part_len = int(sys.argv[4]) if len(sys.argv) > 4 else 0
asked = 0


def answer(title, instr, prompts):
    global asked
    out = []
    for _ in prompts:
        if part_len:
            out.append(token[asked * part_len:(asked + 1) * part_len])
        else:
            out.append(token)
        asked += 1
    return out


try:
    t = paramiko.Transport(("127.0.0.1", port))
    t.start_client(timeout=20)
    t.auth_interactive(user, answer)
except paramiko.BadAuthenticationType as e:
    # the server does not offer keyboard-interactive at all: a set-up error
    print("error: %r" % e, file=sys.stderr)
    sys.exit(2)
except paramiko.AuthenticationException:
    sys.exit(1)
except Exception as e:  # noqa: BLE001 - any other failure is "not a clean result"
    print("error: %r" % e, file=sys.stderr)
    sys.exit(2)
ch = t.open_session()
ch.exec_command("echo tokenscope-login-ok; id -u")
out = ch.makefile().read().decode()
ch.recv_exit_status()
t.close()
print(out, end="")
sys.exit(0)
