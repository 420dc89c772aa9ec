/* fuzz_common.c: the fuzz targets' scratch policy (see fuzz_common.h). */
#include "config.h"

#include <stdint.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_common.h"

static void
copy(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	char buf[8192];
	size_t n;

	if (in == NULL || out == NULL) {
		fprintf(stderr, "fuzz: cannot copy %s\n", from);
		abort();
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	fclose(out);
	chmod(to, 0644);
}

const char *
fuzz_policy_dir(void)
{
	static char conf[4200];
	static const char *const keys[] = { "p256", "rsa2048", "p384", "rsa3072", "ed448",
		"partner_p256", "partner_rsa2048", "ed25519" };
	char tmpl[] = "/tmp/tokenscope-fuzz-XXXXXX", from[4200], to[4200];
	const char *dir;
	size_t i;
	FILE *f;

	if (conf[0] != '\0')
		return conf;
	if ((dir = mkdtemp(tmpl)) == NULL)
		abort();
	chmod(dir, 0755);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(from, sizeof(from), "%s/tests/fixtures/keys/%s.pub.pem", TS_FUZZ_SRCDIR,
		    keys[i]);
		snprintf(to, sizeof(to), "%s/%s.pub.pem", dir, keys[i]);
		copy(from, to);
	}
	/* the user map the policy names (C10) */
	snprintf(from, sizeof(from), "%s/tests/policy-users.map", TS_FUZZ_SRCDIR);
	snprintf(to, sizeof(to), "%s/policy-users.map", dir);
	copy(from, to);
	snprintf(from, sizeof(from), "%s/tests/policy.conf", TS_FUZZ_SRCDIR);
	snprintf(conf, sizeof(conf), "%s/tokenscope.conf", dir);
	copy(from, conf);
	/* the revoked list names nothing here: every key stays usable */
	snprintf(to, sizeof(to), "%s/revoked-keys", dir);
	if ((f = fopen(to, "w")) == NULL)
		abort();
	fclose(f);
	/* no reloads while fuzzing: the state is loaded once */
	return conf;
}
