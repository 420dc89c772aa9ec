#!/usr/bin/python3
"""SSH keyboard-interactive client for the sshd end-to-end test.

usage: ssh_client.py PORT USER TOKEN
Answers every prompt with the token, then runs a command. Prints the
command's output; exit 0 logged in, 1 authentication refused, 2 other.
"""
import sys

import paramiko

port, user, token = int(sys.argv[1]), sys.argv[2], sys.argv[3]
t = paramiko.Transport(("127.0.0.1", port))
try:
    t.start_client(timeout=20)
    t.auth_interactive(user, lambda title, instr, prompts: [token for _ in prompts])
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
