/* fuzz_conf.c: the tokenscope.conf parser with fault injection. */
#include "config.h"

#include <stdint.h>

#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "faults.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ts_conf *c = NULL;
	char *buf = malloc(size + 1);

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	faults_arm(data, size);
	if (ts_conf_parse("/etc/tokenscope/tokenscope.conf", buf, size, &c, NULL) == TS_OK)
		ts_conf_free(c);
	faults_disarm();
	free(buf);
	return 0;
}
