/* libFuzzer target: addr-spec validation and address-list parsing. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "addr.h"
#include "envelope.h"
#include "header.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
count(const char *a, void *ctx)
{
	(void)a;
	(*(int *)ctx)++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[512], s[1024];
	struct rcptlist rl = {0};
	int n = 0;

	addr_check((const char *)data, size, ADDR_LOCAL_OK, why, sizeof(why));
	address_list_parse((const char *)data, size, ADDR_LOCAL_OK, count, &n, why,
			   sizeof(why));
	if (size < sizeof(s)) {
		memcpy(s, data, size);
		s[size] = '\0';
		envelope_add_arg(&rl, s, why, sizeof(why));
	}
	rcptlist_free(&rl);
	return 0;
}
