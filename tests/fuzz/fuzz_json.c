/* fuzz_json.c: differential fuzzing of common/json.c against jansson
 * (tests/jdiff.h): json.c must never accept what jansson refuses or read a
 * different tree, and must refuse nothing valid beyond the known classes. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "jdiff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the first byte picks the depth limit: the header's 4 or the claims' 16 */
	size_t depth = size > 0 && (data[0] & 1) ? 4 : 16;

	if (jdiff_check((const char *)data, size, depth) != 0)
		abort();
	return 0;
}
