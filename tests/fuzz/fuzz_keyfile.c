/* fuzz_keyfile.c: key file parsing (PEM public key, PEM certificate, JWK,
 * JWKS) with fault injection: no crash, no leak. */
#include "config.h"

#include <stdint.h>

#include <stdlib.h>
#include <string.h>

#include "faults.h"
#include "keyfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ts_keyspec ks;
	ts_loaded_key *keys = NULL;
	size_t n = 0;
	char *buf = malloc(size + 1);

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	memset(&ks, 0, sizeof(ks));
	faults_arm(data, size);
	if (ts_keyfile_parse(buf, size, &ks, ~0u, size & 1, &keys, &n, NULL) == TS_OK)
		ts_loaded_keys_free(keys, n);
	faults_disarm();
	free(buf);
	return 0;
}
