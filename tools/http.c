/* http.c: HTTPS GET with libcurl for fetch-keys (see http.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "http.h"

typedef struct sink {
	char *buf;
	size_t len, cap;
	int too_big;
} sink;

/* For the terminal: printable ASCII kept (spaces too), anything else '?'.
 * A server or a discovery document must not write escape sequences or
 * fake report lines to the administrator's screen. */
static void
printable(char *dst, size_t cap, const char *src)
{
	size_t i;

	for (i = 0; src[i] != '\0' && i + 1 < cap; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[i] = '\0';
}

/* A URL for the terminal: printable, and any user:password@ before the
 * host masked (M3: never a secret in output). */
static void
printable_url(char *dst, size_t cap, const char *url)
{
	const char *host = strstr(url, "://"), *at, *slash;

	printable(dst, cap, url);
	if (host == NULL)
		return;
	host += 3;
	at = strchr(host, '@');
	slash = strchr(host, '/');
	if (at != NULL && (slash == NULL || at < slash) && (size_t)(host - url) + 4 < cap) {
		char *d = dst + (host - url);

		memcpy(d, "***", 3);
		printable(d + 3, cap - (size_t)(d + 3 - dst), at);
	}
}

static size_t
collect(char *data, size_t size, size_t n, void *arg)
{
	sink *s = arg;
	size_t add = size * n;

	if (add > HTTP_MAX_BODY - s->len) {
		s->too_big = 1;
		return 0; /* aborts the transfer */
	}
	if (s->len + add + 1 > s->cap) {
		size_t ncap = (s->len + add + 1) * 2;
		char *nb = realloc(s->buf, ncap);

		if (nb == NULL)
			return 0;
		s->buf = nb;
		s->cap = ncap;
	}
	memcpy(s->buf + s->len, data, add);
	s->len += add;
	s->buf[s->len] = '\0';
	return add;
}

int
http_get(const char *url, const char *cafile, char **body, size_t *len, char *err, size_t errlen)
{
	static int inited;
	char cerr[CURL_ERROR_SIZE] = "", shown[300], why[CURL_ERROR_SIZE];
	sink s = { NULL, 0, 0, 0 };
	CURL *c;
	CURLcode rc;
	long status = 0;
	int bad_opt = 0;

	*body = NULL;
	*len = 0;
	if (!inited) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
			snprintf(err, errlen, "libcurl initialisation failed");
			return -1;
		}
		inited = 1;
	}
	if ((c = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "libcurl: out of memory");
		return -1;
	}
	/* URLs may come from a discovery document: shown only sanitised */
	printable_url(shown, sizeof(shown), url);
	/* every option that keeps the transfer safe must take, or nothing is
	 * fetched (an older runtime libcurl could ignore the protocol lists
	 * and follow a redirect to plain http) */
	bad_opt |= curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK;
	bad_opt |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK;
	bad_opt |= curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https") != CURLE_OK;
	bad_opt |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK;
	bad_opt |= curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L) != CURLE_OK;
	bad_opt |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
	bad_opt |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
	if (cafile != NULL) {
		/* instead of the system's CAs, not in addition to them */
		bad_opt |= curl_easy_setopt(c, CURLOPT_CAINFO, cafile) != CURLE_OK;
		bad_opt |= curl_easy_setopt(c, CURLOPT_CAPATH, NULL) != CURLE_OK;
	}
	bad_opt |= curl_easy_setopt(c, CURLOPT_MAXFILESIZE, (long)HTTP_MAX_BODY) != CURLE_OK;
	if (bad_opt) {
		curl_easy_cleanup(c);
		snprintf(
		    err, errlen, "%s: this libcurl cannot be restricted to verified HTTPS", shown);
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "tokenscope-fetch-keys/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (s.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(err, errlen, "%s: response larger than %d bytes", shown, HTTP_MAX_BODY);
	} else if (rc != CURLE_OK) {
		const char *w = cerr[0] ? cerr : curl_easy_strerror(rc);

		/* curl's message may quote the URL or the server */
		printable(why, sizeof(why), w);
		snprintf(err, errlen, "%s: %s", shown, why);
	} else if (status < 200 || status > 299) {
		snprintf(err, errlen, "%s: HTTP status %ld", shown, status);
	} else if (s.len == 0) {
		snprintf(err, errlen, "%s: empty response", shown);
	} else {
		*body = s.buf;
		*len = s.len;
		return 0;
	}
	free(s.buf);
	return -1;
}
