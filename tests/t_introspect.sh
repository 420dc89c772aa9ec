#!/bin/sh
# t_introspect.sh: tokenscope-introspect's endpoints, status codes, JSON,
# client authentication, service selection, limits and reload (the Python
# client in t_introspect.py); runs as any user.
set -u
: "${TS_BUILDDIR:?}" "${TS_SRCDIR:?}" "${TS_FIXTURES:?}"
W="$TS_BUILDDIR/tests/tmp/introspect"
rm -rf "$W" && mkdir -p "$W" && chmod 755 "$W"
for k in p256 rsa2048 p384 rsa3072 ed448 partner_p256 partner_rsa2048 ed25519; do
	cp "$TS_FIXTURES/keys/$k.pub.pem" "$W/" && chmod 644 "$W/$k.pub.pem"
done
cp "$TS_SRCDIR/tests/policy.conf" "$W/tokenscope.conf" && chmod 644 "$W/tokenscope.conf"
cp "$TS_SRCDIR/tests/policy-users.map" "$W/" && chmod 644 "$W/policy-users.map"
/usr/bin/python3 -c "import json; print(json.load(open('$TS_FIXTURES/tokens.json'))['thumbprints']['ed448'])" >"$W/revoked-keys"
chmod 644 "$W/revoked-keys"
/usr/bin/python3 "$TS_SRCDIR/tests/mint_now.py" "$TS_FIXTURES" >"$W/fresh.json" ||
	{ echo "1..0 # SKIP python3-jwt / python3-jwcrypto missing"; exit 0; }
# as root the daemon drops to nobody, who must reach the files here; a
# build tree under a 0700 directory (rpmbuild's) leaves it root, said so
U=""
if [ "$(id -u)" = 0 ]; then
	if runuser -u nobody -- test -r "$W/tokenscope.conf" 2>/dev/null; then U=nobody; else U=root; fi
fi
export TS_INTROSPECT_USER="$U"
exec /usr/bin/python3 "$TS_SRCDIR/tests/t_introspect.py" "$TS_BUILDDIR/introspect/tokenscope-introspect" \
	"$TS_BUILDDIR/tools/tokenscope" "$W" "$TS_FIXTURES"
