/* msg.c: OAUTHBEARER and XOAUTH2 message parsing (see msg.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "msg.h"

#define KVSEP '\x01'

static int
fail(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return -1;
}

/* RFC 7628 auth-value: "Bearer" (case-insensitive), exactly one space, a
 * non-empty b64token (RFC 6750: ALPHA DIGIT - . _ ~ + / then '=' only at
 * the end). Our JWS parser is stricter still. */
static int
bearer(const char *v, size_t len, size_t max_token, tm_msg *m, char *err, size_t errlen)
{
	size_t i, t;

	if (len < 7 || strncasecmp(v, "Bearer ", 7) != 0)
		return fail(err, errlen, "auth is not \"Bearer <token>\"");
	v += 7;
	len -= 7;
	if (len == 0)
		return fail(err, errlen, "empty bearer token");
	if (v[0] == ' ')
		return fail(err, errlen, "more than one space after Bearer");
	if (len > max_token)
		return fail(err, errlen, "bearer token too large");
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    strchr("-._~+/", c) != NULL)
			continue;
		break;
	}
	for (t = i; i < len && v[i] == '='; i++)
		;
	if (i != len || t == 0)
		return fail(err, errlen, "bearer token holds characters outside b64token");
	m->token = v;
	m->token_len = len;
	return 0;
}

/* saslname with =2C and =3D escapes (RFC 5801) into m->authzid. */
static int
unescape_authzid(const char *s, size_t len, tm_msg *m, char *err, size_t errlen)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == ',')
			return fail(err, errlen, "unescaped ',' in the authzid");
		if (c == '=') {
			if (i + 2 < len && s[i + 1] == '2' && s[i + 2] == 'C')
				c = ',';
			else if (i + 2 < len && s[i + 1] == '3' && s[i + 2] == 'D')
				c = '=';
			else
				return fail(err, errlen,
				    "bad '=' escape in the authzid (only =2C and =3D)");
			i += 2;
		}
		if (o >= TM_AUTHZID_MAX)
			return fail(err, errlen, "authzid too long");
		m->authzid[o++] = c;
	}
	m->authzid[o] = '\0';
	m->has_authzid = o > 0;
	return 0;
}

int
tm_parse_oauthbearer(
    const char *in, size_t len, size_t max_token, tm_msg *m, char *err, size_t errlen)
{
	const char *p = in, *end = in + len, *comma;
	int have_auth = 0;

	memset(m, 0, sizeof(*m));
	if (len == 0)
		return fail(err, errlen, "empty message");
	if (memchr(in, '\0', len) != NULL)
		return fail(err, errlen, "NUL byte in the message");
	/* gs2-header: gs2-cb-flag "," [ "a=" saslname ] "," */
	if (len >= 2 && p[0] == 'p' && p[1] == '=')
		return fail(err, errlen, "channel binding (p=) is not supported");
	if (len < 3 || (p[0] != 'n' && p[0] != 'y') || p[1] != ',')
		return fail(err, errlen, "GS2 header must start with \"n,\" or \"y,\"");
	p += 2;
	if ((comma = memchr(p, ',', (size_t)(end - p))) == NULL)
		return fail(err, errlen, "GS2 header not terminated by ','");
	if (comma > p) {
		/* only "a=" may stand here; the authzid itself holds no raw ',' */
		if (comma - p < 2 || p[0] != 'a' || p[1] != '=')
			return fail(err, errlen, "GS2 header field other than a= (authzid)");
		if (unescape_authzid(p + 2, (size_t)(comma - p - 2), m, err, errlen) != 0)
			return -1;
	}
	p = comma + 1;
	if (p >= end || *p != KVSEP)
		return fail(err, errlen, "no \\x01 after the GS2 header");
	p++;
	/* kvpairs: key "=" value \x01, then a final \x01 */
	for (;;) {
		const char *eq, *sep, *k;
		size_t klen, vlen;

		if (p >= end)
			return fail(err, errlen, "message does not end with \\x01\\x01");
		if (*p == KVSEP) {
			p++;
			break;
		}
		if ((sep = memchr(p, KVSEP, (size_t)(end - p))) == NULL)
			return fail(err, errlen, "key=value pair not terminated by \\x01");
		if ((eq = memchr(p, '=', (size_t)(sep - p))) == NULL || eq == p)
			return fail(err, errlen, "malformed key=value pair");
		k = p;
		klen = (size_t)(eq - p);
		vlen = (size_t)(sep - eq - 1);
		for (p = k; p < eq; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
				return fail(err, errlen, "key holds characters other than letters");
		for (p = eq + 1; p < sep; p++) {
			unsigned char c = (unsigned char)*p;

			if (!(c >= 0x20 && c <= 0x7e) && c != '\t' && c != '\r' && c != '\n')
				return fail(err, errlen, "value holds a control character");
		}
		if (klen == 4 && memcmp(k, "auth", 4) == 0) {
			if (have_auth++)
				return fail(err, errlen, "more than one auth=");
			if (bearer(eq + 1, vlen, max_token, m, err, errlen) != 0)
				return -1;
		} else if (klen == 4 && memcmp(k, "host", 4) == 0) {
			m->host = eq + 1;
			m->host_len = vlen;
		} else if (klen == 4 && memcmp(k, "port", 4) == 0) {
			m->port = eq + 1;
			m->port_len = vlen;
		}
		/* other keys are allowed by RFC 7628 and ignored */
		p = sep + 1;
	}
	if (p != end)
		return fail(err, errlen, "data after the final \\x01");
	if (!have_auth)
		return fail(err, errlen, "no auth= in the message");
	return 0;
}

int
tm_parse_xoauth2(const char *in, size_t len, size_t max_token, tm_msg *m, char *err, size_t errlen)
{
	const char *p = in, *end = in + len, *sep;
	size_t ulen;

	memset(m, 0, sizeof(*m));
	if (memchr(in, '\0', len) != NULL)
		return fail(err, errlen, "NUL byte in the message");
	/* user=<u> \x01 auth=Bearer <token> \x01 \x01 */
	if (len < 5 || memcmp(p, "user=", 5) != 0)
		return fail(err, errlen, "XOAUTH2 message must start with user=");
	p += 5;
	if ((sep = memchr(p, KVSEP, (size_t)(end - p))) == NULL)
		return fail(err, errlen, "user= not terminated by \\x01");
	ulen = (size_t)(sep - p);
	if (ulen == 0 || ulen > TM_AUTHZID_MAX)
		return fail(err, errlen, "user= empty or too long");
	memcpy(m->authzid, p, ulen);
	m->authzid[ulen] = '\0';
	m->has_authzid = 1;
	p = sep + 1;
	if ((size_t)(end - p) < 5 || memcmp(p, "auth=", 5) != 0)
		return fail(err, errlen, "auth= must follow user=");
	p += 5;
	if ((sep = memchr(p, KVSEP, (size_t)(end - p))) == NULL)
		return fail(err, errlen, "auth= not terminated by \\x01");
	if (bearer(p, (size_t)(sep - p), max_token, m, err, errlen) != 0)
		return -1;
	p = sep + 1;
	if (p >= end || *p != KVSEP)
		return fail(err, errlen, "message does not end with \\x01\\x01");
	if (p + 1 != end)
		return fail(err, errlen, "data after the final \\x01");
	return 0;
}

int
tm_is_oauthbearer_ack(const char *in, size_t len)
{
	return len == 1 && in[0] == KVSEP;
}
