/* libFuzzer target: addr-spec validation, address-list parsing, and the
 * canonical (matching) form of addresses and domains. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "addr.h"
#include "envelope.h"
#include "header.h"
#include "pslimits.h"

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
		{
			char c[PS_ADDR_CANON_MAX + 1], b[PS_ADDR_CANON_MAX + 1];

			if (addr_canonical(s, c, sizeof(c)) >= 0) {
				addr_strip_extension(c, "+-.", b, sizeof(b));
				addr_unicode_domain(c, b, sizeof(b));
			}
			addr_canonical_domain(s, c, sizeof(c));
			addr_same_mailbox(s, "Joe.Doe@b\xc3\xbc" "cher.example");
		}
	}
	rcptlist_free(&rl);
	return 0;
}
