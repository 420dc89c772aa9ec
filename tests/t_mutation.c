/* t_mutation.c: every single-byte change (all 255 other values at every
 * position, so every bit flip too) and every truncation of a valid token of
 * each algorithm is rejected (OpenSSH test_helper/fuzz.c pattern). Tokens
 * from the independent signer; keys pinned as a keyring would pin them. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "fx.h"
#include "jws.h"
#include "tap.h"

static int
accepted(const char *tok, size_t len, const ts_key *key)
{
	ts_jws *j = NULL;
	ts_err e = { "" };
	int ok_ = ts_jws_parse(tok, len, 0, &j, &e) == TS_OK && ts_jws_verify(j, key, &e) == TS_OK;

	ts_jws_free(j);
	return ok_;
}

int
main(void)
{
	const char *const *names = fx_token_names();
	long total = 0;

	for (; *names != NULL; names++) {
		const char *tok, *a;
		ts_key *k;
		char *t;
		size_t len, i;
		long tried = 0, acc = 0, trunc_acc = 0;
		int v;

		if (strncmp(*names, "good_", 5) != 0)
			continue;
		tok = fx_token(*names);
		a = fx_token_alg(*names);
		k = fx_key(fx_token_key(*names), ts_alg_from_name(a, strlen(a)));
		len = strlen(tok);
		if (!accepted(tok, len, k))
			tap_bail("%s does not verify unmodified", *names);
		t = malloc(len + 1);
		memcpy(t, tok, len + 1);
		for (i = 0; i < len; i++) {
			char orig = t[i];

			for (v = 0; v < 256; v++) {
				if ((char)v == orig)
					continue;
				t[i] = (char)v;
				tried++;
				acc += accepted(t, len, k);
			}
			t[i] = orig;
		}
		for (i = 0; i < len; i++)
			trunc_acc += accepted(tok, i, k);
		ok(acc == 0 && trunc_acc == 0 && ERR_peek_error() == 0,
		    "mutations_of_%s_rejected (%ld byte changes, %zu truncations, %ld+%ld "
		    "accepted)",
		    *names + 5, tried, len, acc, trunc_acc);
		total += tried + (long)len;
		free(t);
		ts_key_free(k);
	}
	tap_diag("%ld mutated tokens checked", total);
	return tap_done();
}
