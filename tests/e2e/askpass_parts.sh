#!/bin/sh
# askpass_parts.sh: an SSH_ASKPASS program that answers a keyboard-interactive
# token in parts (pam_token(8) multipart): at its n-th call it prints the n-th
# PART_LEN-byte part of the token in TOKEN_FILE, then nothing, which ends the
# token. ASKPASS_STATE names a file that counts the calls. No newline: ssh
# reads 1,023 bytes and closes the pipe, and an askpass that then fails to
# write makes ssh send an empty answer.
n=$(cat "$ASKPASS_STATE" 2>/dev/null || echo 0)
echo $((n + 1)) >"$ASKPASS_STATE"
dd if="$TOKEN_FILE" bs="$PART_LEN" skip="$n" count=1 2>/dev/null
exit 0
