#include "config.h"

#include <stdio.h>
#include <string.h>

#include <nettle/sha2.h>

#include "addr.h"
#include "dane.h"

int
dane_owner_name(const char *addr, char *out, size_t outlen)
{
	const char *at = addr_at(addr);
	struct sha256_ctx ctx;
	unsigned char digest[SHA256_DIGEST_SIZE];
	size_t o = 0;
	int n;

	if (at == NULL || at == addr || at[1] == '\0' || at[1] == '[')
		return -1;
	sha256_init(&ctx);
	sha256_update(&ctx, (size_t)(at - addr), (const unsigned char *)addr);
	sha256_digest(&ctx, sizeof(digest), digest);
	if (outlen < 28 * 2 + 1)
		return -1;
	for (size_t i = 0; i < 28; i++)
		o += (size_t)snprintf(out + o, outlen - o, "%02x", digest[i]);
	n = snprintf(out + o, outlen - o, "._openpgpkey.%s", at + 1);
	if (n < 0 || (size_t)n >= outlen - o)
		return -1;
	return 0;
}
