/* libFuzzer target: the configuration file parser. */
#include "config.h"

#include <stdint.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ps_config cf;
	char why[512];

	config_defaults(&cf);
	config_parse(&cf, "fuzz.conf", (const char *)data, size, why, sizeof(why));
	return 0;
}
