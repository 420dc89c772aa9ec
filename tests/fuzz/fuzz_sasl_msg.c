/* fuzz_sasl_msg.c: the OAUTHBEARER and XOAUTH2 message parsers. Whatever
 * they accept must point inside the message. */
#include "config.h"

#include <stdint.h>

#include <stdlib.h>

#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	char err[128];
	tm_msg m;
	int r;

	if (size > 0 && (data[0] & 1))
		r = tm_parse_xoauth2(in, size, 65536, &m, err, sizeof(err));
	else
		r = tm_parse_oauthbearer(in, size, 65536, &m, err, sizeof(err));
	if (r == 0 && (m.token < in || m.token + m.token_len > in + size || m.token_len == 0))
		abort();
	(void)tm_is_oauthbearer_ack(in, size);
	return 0;
}
