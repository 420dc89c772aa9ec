#!/bin/sh
# t_saslviewer.sh: Cyrus SASL's own saslpluginviewer loads libtoken.so from
# the build tree and lists both mechanisms with their properties.
set -u
: "${TS_BUILDDIR:?}"
[ -z "${TS_SANITIZERS:-}" ] || { echo "1..0 # SKIP an uninstrumented saslpluginviewer cannot load an ASan-built plugin"; exit 0; }
command -v saslpluginviewer >/dev/null || { echo "1..0 # SKIP saslpluginviewer (sasl2-bin) missing"; exit 0; }
out=$(saslpluginviewer -s -p "$TS_BUILDDIR/sasl_token/.libs" 2>&1)
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi; }
echo "$out" | grep -q 'Plugin "token" \[loaded\]'; ok $? "saslpluginviewer_loads_libtoken"
echo "$out" | grep -q "SASL mechanism: OAUTHBEARER"; ok $? "saslpluginviewer_lists_OAUTHBEARER"
echo "$out" | grep -q "SASL mechanism: XOAUTH2"; ok $? "saslpluginviewer_lists_XOAUTH2"
echo "$out" | grep -q "security flags: NO_ANONYMOUS|PASS_CREDENTIALS"; ok $? "security_flags_noanonymous"
echo "1..$n"
exit $failed
