#!/bin/sh
# t_man.sh: man pages render without warnings, and tokenscope(1) documents
# every reason code the core can return (common/reason.c).
set -u
: "${TS_SRCDIR:?}"
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi; }
command -v groff >/dev/null || { echo "1..0 # SKIP groff missing"; exit 0; }
for page in "$TS_SRCDIR"/man/*.[0-9]; do
	w=$(groff -ww -z -man "$page" 2>&1)
	[ -z "$w" ]; ok $? "groff_clean_$(basename "$page") $w"
done
missing=""
for code in $(sed -n 's/^.*\] = "\([a-z_]*\)",$/\1/p' "$TS_SRCDIR/common/reason.c"); do
	[ "$code" = ok ] && continue
	grep -q "^\.BR $code " "$TS_SRCDIR/man/tokenscope.1" || missing="$missing $code"
done
[ -z "$missing" ]; ok $? "every_reason_code_documented_in_tokenscope.1${missing:+ (missing:$missing)}"
# the settings are the rows of keywords[] in common/conf.c
missing="" nkeys=0
for key in $(sed -n 's/^[[:space:]]*{ "\([a-z_]*\)", [GIS], .*/\1/p' "$TS_SRCDIR/common/conf.c" | sort -u); do
	nkeys=$((nkeys + 1))
	grep -qE "^\.(B|BR|BI) $key( |\$)" "$TS_SRCDIR/man/tokenscope.conf.5" || missing="$missing $key"
done
[ -z "$missing" ] && [ "$nkeys" -gt 0 ]
ok $? "every_setting_documented_in_tokenscope.conf.5 ($nkeys settings)${missing:+ (missing:$missing)}"
echo "1..$n"
exit $failed
