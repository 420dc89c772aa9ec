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

int
tm_is_b64token(const char *v, size_t len)
{
	size_t i, t;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (c != '\0' && strchr("-._~+/", c) != NULL))
			continue;
		break;
	}
	for (t = i; i < len && v[i] == '='; i++)
		;
	return i == len && t > 0;
}

/* RFC 7628 auth-value: "Bearer" (case-insensitive), exactly one space, a
 * non-empty b64token (RFC 6750: ALPHA DIGIT - . _ ~ + / then '=' only at
 * the end). Our JWS parser is stricter still. */
static int
bearer(const char *v, size_t len, size_t max_token, tm_msg *m, char *err, size_t errlen)
{
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
	if (!tm_is_b64token(v, len))
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

/* Appends n bytes to the message being built; a message that does not
 * fit is marked as such and finally refused as a whole. */
static void
put(tm_out *o, const char *s, size_t n)
{
	if (o->full || n > o->cap - o->len) {
		o->full = 1;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void
puts0(tm_out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* key=value and the \x01 after it */
static void
put_kv(tm_out *o, const char *key, const char *v, size_t vlen)
{
	const char kv = KVSEP;

	puts0(o, key);
	put(o, v, vlen);
	put(o, &kv, 1);
}

/* The token and the user are checked here, before anything is sent: a
 * password that is not a b64token (a real password typed by mistake, a
 * token with a newline) never leaves the client, and no name can add a
 * key=value pair of its own. */
static int
check_token(const char *token, size_t token_len, size_t max_token, char *err, size_t errlen)
{
	if (token == NULL || token_len == 0)
		return fail(err, errlen, "no token (the password is empty)");
	if (token_len > max_token)
		return fail(err, errlen, "token too large");
	if (!tm_is_b64token(token, token_len))
		return fail(err, errlen, "the password is not a bearer token (b64token)");
	return 0;
}

static int
check_user(const char *user, char *err, size_t errlen)
{
	const unsigned char *p;

	if (strlen(user) > TM_AUTHZID_MAX)
		return fail(err, errlen, "user name too long");
	for (p = (const unsigned char *)user; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return fail(err, errlen, "user name holds a control character");
	return 0;
}

/* "Bearer <token>" as the last pair, then the final \x01 */
static int
put_auth(tm_out *o, const char *token, size_t token_len, char *err, size_t errlen)
{
	const char kv = KVSEP;

	puts0(o, "auth=Bearer ");
	put(o, token, token_len);
	put(o, &kv, 1);
	put(o, &kv, 1);
	return o->full ? fail(err, errlen, "message too large") : 0;
}

int
tm_build_oauthbearer(const char *authzid, const char *host, const char *port, const char *token,
    size_t token_len, size_t max_token, tm_out *o, char *err, size_t errlen)
{
	static const char hostchars[] = "abcdefghijklmnopqrstuvwxyz"
	                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]";
	const char *p;

	o->len = 0;
	o->full = 0;
	if (check_token(token, token_len, max_token, err, errlen) != 0 ||
	    (authzid != NULL && check_user(authzid, err, errlen) != 0))
		return -1;
	puts0(o, "n,");
	if (authzid != NULL && *authzid != '\0') {
		/* saslname (RFC 5801): ',' and '=' escaped */
		puts0(o, "a=");
		for (p = authzid; *p != '\0'; p++) {
			if (*p == ',')
				puts0(o, "=2C");
			else if (*p == '=')
				puts0(o, "=3D");
			else
				put(o, p, 1);
		}
	}
	put_kv(o, ",", "", 0); /* the end of the GS2 header, then \x01 */
	/* host and port are optional (RFC 7628 3.1): sent only when clean */
	if (host != NULL && *host != '\0' && strlen(host) <= 255 &&
	    strspn(host, hostchars) == strlen(host))
		put_kv(o, "host=", host, strlen(host));
	if (port != NULL && *port != '\0' && strlen(port) <= 5 &&
	    strspn(port, "0123456789") == strlen(port))
		put_kv(o, "port=", port, strlen(port));
	return put_auth(o, token, token_len, err, errlen);
}

int
tm_build_xoauth2(const char *user, const char *token, size_t token_len, size_t max_token, tm_out *o,
    char *err, size_t errlen)
{
	o->len = 0;
	o->full = 0;
	if (check_token(token, token_len, max_token, err, errlen) != 0)
		return -1;
	if (user == NULL || *user == '\0')
		return fail(err, errlen, "XOAUTH2 needs a user name");
	if (check_user(user, err, errlen) != 0)
		return -1;
	put_kv(o, "user=", user, strlen(user));
	return put_auth(o, token, token_len, err, errlen);
}

size_t
tm_build_size(const char *user, const char *host, size_t token_len, size_t max_token)
{
	size_t ulen = user ? strnlen(user, TM_AUTHZID_MAX + 1) : 0;
	size_t hlen = host ? strnlen(host, 256) : 0;

	/* every user byte escaped at worst, plus the fixed parts; inputs over
	 * their caps are refused by the builders, which never write past the
	 * buffer, so the size stays small whatever the application passed */
	return 3 * ulen + hlen + (token_len < max_token ? token_len : max_token) + 64;
}
