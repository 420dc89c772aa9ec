/* fuzz_conf.c: the tokenscope.conf parser and its lenient scan, with fault
 * injection. */
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
	ts_conf_names names;
	char *buf = malloc(size + 1);

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	faults_arm(data, size);
	if (ts_conf_parse("/etc/tokenscope/tokenscope.conf", buf, size, &c, NULL) == TS_OK)
		ts_conf_free(c);
	/* the lenient scan a failed reload uses for what it takes away (K11),
	 * on the same bytes (it writes into the buffer it reads) */
	if (ts_conf_scan_buf(buf, size, "/etc/tokenscope", &names) == TS_OK)
		ts_conf_names_free(&names);
	faults_disarm();
	free(buf);
	return 0;
}
