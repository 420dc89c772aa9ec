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
	char cerr[CURL_ERROR_SIZE] = "";
	sink s = { NULL, 0, 0, 0 };
	CURL *c;
	CURLcode rc;
	long status = 0;

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
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cafile != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, cafile);
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
	if (s.too_big) {
		snprintf(err, errlen, "%s: response larger than %d bytes", url, HTTP_MAX_BODY);
	} else if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s: %s", url, cerr[0] ? cerr : curl_easy_strerror(rc));
	} else if (status < 200 || status > 299) {
		snprintf(err, errlen, "%s: HTTP status %ld", url, status);
	} else if (s.len == 0) {
		snprintf(err, errlen, "%s: empty response", url);
	} else {
		*body = s.buf;
		*len = s.len;
		return 0;
	}
	free(s.buf);
	return -1;
}
