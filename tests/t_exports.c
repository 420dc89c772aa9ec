/* t_exports.c: M6. The built modules export their entry points and nothing
 * else: no decode function, no core symbol (pam-u2f's dlsym_check habit). */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"

static const char *const internal[] = { "ts_validate", "ts_jws_parse", "ts_jws_claims",
	"ts_jws_payload", "ts_jws_iss", "ts_b64url_decode", "ts_key_verify", "ts_jwk_to_key",
	"ts_ctx_new", "ts_conf_load", "pt_ctx_get", "pt_parse_args", "tm_parse_oauthbearer",
	"tm_parse_xoauth2", "tm_build_oauthbearer", "tm_build_xoauth2", "tm_is_b64token",
	"json_loadb", NULL };

static void
check(const char *rel, const char *const *want)
{
	char path[4096];
	void *h;
	size_t i;
	int leaked = 0;

	snprintf(path, sizeof(path), "%s/%s", tap_env("TS_BUILDDIR"), rel);
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!ok(h != NULL, "dlopen %s (%s)", rel, h ? "ok" : dlerror()))
		return;
	for (i = 0; want[i] != NULL; i++)
		ok(dlsym(h, want[i]) != NULL, "%s exports %s", rel, want[i]);
	for (i = 0; internal[i] != NULL; i++) {
		/* json_loadb may come from libjansson itself: only ours matter */
		Dl_info info;
		void *sym = dlsym(h, internal[i]);

		if (sym != NULL && dladdr(sym, &info) && info.dli_fname != NULL &&
		    strstr(info.dli_fname, rel + strlen(rel) - 8) != NULL) {
			tap_diag("%s exports internal symbol %s", rel, internal[i]);
			leaked++;
		}
	}
	ok(leaked == 0, "M6_%s_exports_no_internal_symbol", rel);
}

int
main(void)
{
	static const char *const pam[] = { "pam_sm_authenticate", "pam_sm_setcred",
		"pam_sm_acct_mgmt", NULL };

	static const char *const sasl[] = { "sasl_server_plug_init", "sasl_client_plug_init",
		NULL };

	check("pam_token/.libs/pam_token.so", pam);
	check("sasl_token/.libs/libtoken.so", sasl);
	return tap_done();
}
