/* libFuzzer target: key data from the network, as postseal receives it.
 * The first byte picks the path: even = an HTTP reply body (WKD, VKS,
 * HKP), odd = DANE OPENPGPKEY RDATA split into records as unbound hands
 * them over and concatenated like dnsfetch.c does. Invariants checked:
 * an accepted reply is binary, starts with a public key packet, and is
 * never larger than the input. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keyblock.h"
#include "pslimits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[512];
	struct buf in, out;
	int n;

	if (size == 0)
		return 0;
	buf_init(&in, PS_WKD_REPLY_MAX);
	buf_init(&out, PS_WKD_REPLY_MAX);
	if ((data[0] & 1) == 0) {
		buf_append(&in, data + 1, size - 1);
	} else {
		/* records: a length byte, then that many bytes */
		size_t pos = 1;

		while (pos < size) {
			size_t len = data[pos++];

			if (len > size - pos)
				len = size - pos;
			buf_append(&in, data + pos, len);
			pos += len;
		}
	}
	n = keyblock_check((const unsigned char *)in.data, in.len, &out, why, sizeof(why));
	if (n > 0) {
		unsigned char h = (unsigned char)out.data[0];
		unsigned tag = (h & 0x40) ? (h & 0x3Fu) : ((h >> 2) & 0x0Fu);

		if (tag != 6 || out.len > in.len || n > KEYBLOCK_KEYS_MAX)
			abort();
	} else if (n == 0 || why[0] == '\0')
		abort(); /* refused without a reason, or accepted with no key */
	buf_free(&in);
	buf_free(&out);
	return 0;
}
