#!/bin/sh
# t_public_headers.sh: tokenscope.h is the whole door. Each front-end source
# (pam_token/, sasl_token/, introspect/, tools/) is compiled with only the public headers
# of common/ on its include path, so that a front-end reaching for a private
# header of the core fails here rather than in review. The admin command's
# subcommands that print or rewrite configured keys read the core's private
# state on purpose; each names the private headers it may use below, and
# anything beyond them fails; so does the introspection service's client
# file reader, which opens its root-owned secrets file with the core's safe
# open like every other trust anchor.
: "${TS_SRCDIR:?}" "${TS_BUILDDIR:?}"
CC=${TS_CC:-cc}
command -v "${CC%% *}" >/dev/null 2>&1 || { echo "1..0 # SKIP no compiler"; exit 0; }

# The public headers: tokenscope.h and what it includes.
PUBLIC="tokenscope.h reason.h err.h"

# Admin subcommands and the private headers each may include.
admin_allowed() {
	case "$1" in
	tools/cmd_config.c) echo "conf.h jws.h inspect.h keyring.h timeutil.h" ;;
	tools/cmd_fetch.c) echo "b64url.h conf.h jwk.h jws.h keyfile.h keyring.h safe_file.h inspect.h" ;;
	tools/cmd_doctor.c) echo "conf.h inspect.h" ;;
	tools/cmd_mint.c) echo "alg.h b64url.h jws.h key.h" ;;
	tools/fetch_req.c) echo "conf.h fetchreq.h safe_file.h" ;;
	introspect/clients.c) echo "safe_file.h" ;;
	*) return 1 ;;
	esac
}

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/include"
for h in $PUBLIC; do cp "$TS_SRCDIR/common/$h" "$tmp/include/" || exit 1; done

cd "$TS_SRCDIR" || exit 1
n=0
failed=0
files=$(ls pam_token/*.c sasl_token/*.c introspect/*.c tools/*.c)
echo "1..$(echo "$files" | wc -l)"
for f in $files; do
	n=$((n + 1))
	name="public_headers_only_$(echo "$f" | tr '/.' '__')"
	if allowed=$(admin_allowed "$f"); then
		bad=""
		for inc in $(sed -n 's/^#include "\(.*\)"/\1/p' "$f"); do
			[ -f "$(dirname "$f")/$inc" ] && continue # the front-end's own
			[ "$inc" = config.h ] && continue
			case " $PUBLIC $allowed " in *" $inc "*) continue ;; esac
			bad="$bad $inc"
		done
		if [ -z "$bad" ]; then
			echo "ok $n - $name"
			echo "# may read: $allowed"
		else
			echo "not ok $n - $name"
			echo "# $f includes private headers beyond its list:$bad"
			failed=1
		fi
		continue
	fi
	# shellcheck disable=SC2086 # the flags are word lists
	if $CC -fsyntax-only -I"$tmp/include" -I"$(dirname "$f")" -I"$TS_BUILDDIR" \
		${TS_DEP_CFLAGS:-} "$f" >"$tmp/err" 2>&1; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		sed 's/^/# /' "$tmp/err" | head -5
		failed=1
	fi
done
exit $failed
