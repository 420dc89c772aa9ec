/* t_b64url.c: strict base64url (P2). */
#include "config.h"

#include <string.h>

#include "b64url.h"
#include "tap.h"

static int
dec(const char *in, unsigned char *out, size_t cap, size_t *n)
{
	return ts_b64url_decode(in, strlen(in), out, cap, n);
}

int
main(void)
{
	unsigned char buf[64], all[256];
	char enc[400];
	size_t n = 0, i, len;
	int bad;

	ok(dec("Zm9v", buf, sizeof(buf), &n) == 0 && n == 3 && memcmp(buf, "foo", 3) == 0,
	    "P2_decode_full_quantum");
	ok(dec("Zm8", buf, sizeof(buf), &n) == 0 && n == 2 && memcmp(buf, "fo", 2) == 0,
	    "P2_decode_two_bytes_unpadded");
	ok(dec("Zg", buf, sizeof(buf), &n) == 0 && n == 1 && buf[0] == 'f', "P2_decode_one_byte");
	ok(dec("", buf, sizeof(buf), &n) == 0 && n == 0, "P2_decode_empty");
	ok(dec("Zg==", buf, sizeof(buf), &n) != 0, "P2_padding_rejected");
	ok(dec("Zm8=", buf, sizeof(buf), &n) != 0, "P2_single_padding_rejected");
	ok(dec("Zm9v Zm9v", buf, sizeof(buf), &n) != 0, "P2_space_rejected");
	ok(dec("Zm9v\nZm9v", buf, sizeof(buf), &n) != 0, "P2_newline_rejected");
	ok(dec("Zm9vZ", buf, sizeof(buf), &n) != 0, "P2_length_1_mod_4_rejected");
	ok(dec("Zh", buf, sizeof(buf), &n) != 0, "P2_nonzero_trailing_bits_2chars_rejected");
	ok(dec("Zm9", buf, sizeof(buf), &n) != 0, "P2_nonzero_trailing_bits_3chars_rejected");
	ok(dec("a+b/", buf, sizeof(buf), &n) != 0, "P2_standard_base64_alphabet_rejected");
	ok(dec("-_-_", buf, sizeof(buf), &n) == 0 && n == 3 && buf[0] == 0xfb && buf[1] == 0xff &&
	        buf[2] == 0xbf,
	    "P2_url_alphabet_accepted");
	ok(dec("Zm9vYmFy", buf, 5, &n) != 0, "decode_refuses_small_output_buffer");
	ok(ts_b64url_decode("Zm\0v", 4, buf, sizeof(buf), &n) != 0, "P2_nul_byte_rejected");

	/* round trip of every length 0..255 and every byte value */
	for (i = 0; i < sizeof(all); i++)
		all[i] = (unsigned char)(255 - i);
	bad = 0;
	for (len = 0; len <= sizeof(all); len++) {
		unsigned char back[256];
		size_t m = 0, el = ts_b64url_encode(all, len, enc, sizeof(enc));

		if (el != TS_B64URL_ENCODED_LEN(len) || strchr(enc, '=') != NULL ||
		    ts_b64url_decode(enc, el, back, sizeof(back), &m) != 0 || m != len ||
		    memcmp(back, all, len) != 0 || TS_B64URL_DECODED_LEN(el) != len)
			bad++;
	}
	ok(bad == 0, "round_trip_all_lengths_0_to_256 (%d bad)", bad);
	ok(ts_b64url_encode(all, 3, enc, 4) == 0 && enc[0] == '\0', "encode_refuses_small_buffer");
	return tap_done();
}
