#include "config.h"

#include <stdio.h>
#include <string.h>

#include <nettle/sha1.h>

#include "addr.h"
#include "buf.h"
#include "wkd.h"

int
zbase32_encode(const unsigned char *in, size_t n, char *out, size_t outlen)
{
	static const char alphabet[] = "ybndrfg8ejkmcpqxot1uwisza345h769";
	size_t bits = n * 8, o = 0;

	if (outlen < (bits + 4) / 5 + 1)
		return -1;
	for (size_t b = 0; b < bits; b += 5) {
		unsigned v = 0;

		for (size_t k = 0; k < 5; k++) {
			size_t bit = b + k;

			v <<= 1;
			if (bit < bits && (in[bit / 8] & (0x80 >> (bit % 8))))
				v |= 1;
		}
		out[o++] = alphabet[v];
	}
	out[o] = '\0';
	return 0;
}

int
wkd_hash(const char *lp, size_t lplen, char out[33])
{
	struct sha1_ctx ctx;
	unsigned char digest[SHA1_DIGEST_SIZE];

	sha1_init(&ctx);
	for (size_t i = 0; i < lplen; i++) {
		unsigned char c = (unsigned char)lp[i];

		/* ASCII only: non-ASCII bytes are hashed as they are */
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		sha1_update(&ctx, 1, &c);
	}
	sha1_digest(&ctx, sizeof(digest), digest);
	return zbase32_encode(digest, sizeof(digest), out, 33);
}

static int
wkd_url(const char *addr, int advanced, int policy, char *out, size_t outlen)
{
	const char *at = addr_at(addr);
	char hash[33], domain[256];
	size_t dlen, lplen;
	struct buf b;
	int r = -1;

	if (at == NULL || at == addr || at[1] == '\0')
		return -1;
	lplen = (size_t)(at - addr);
	dlen = strlen(at + 1);
	if (dlen >= sizeof(domain) || at[1] == '[')
		return -1;
	for (size_t i = 0; i <= dlen; i++) {
		char c = at[1 + i];

		domain[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	if (wkd_hash(addr, lplen, hash) < 0)
		return -1;
	buf_init(&b, outlen > 0 ? outlen - 1 : 0);
	if (policy) {
		if (advanced)
			buf_printf(&b, "https://openpgpkey.%s/.well-known/openpgpkey/%s/policy",
				   domain, domain);
		else
			buf_printf(&b, "https://%s/.well-known/openpgpkey/policy", domain);
		if (!b.failed) {
			memcpy(out, b.data, b.len + 1);
			r = 0;
		}
		buf_free(&b);
		return r;
	}
	if (advanced)
		buf_printf(&b, "https://openpgpkey.%s/.well-known/openpgpkey/%s/hu/%s?l=",
			   domain, domain, hash);
	else
		buf_printf(&b, "https://%s/.well-known/openpgpkey/hu/%s?l=", domain,
			   hash);
	if (buf_put_pct(&b, addr, lplen) == 0 && !b.failed) {
		memcpy(out, b.data, b.len + 1);
		r = 0;
	}
	buf_free(&b);
	return r;
}

int
wkd_url_advanced(const char *addr, char *out, size_t outlen)
{
	return wkd_url(addr, 1, 0, out, outlen);
}

int
wkd_url_direct(const char *addr, char *out, size_t outlen)
{
	return wkd_url(addr, 0, 0, out, outlen);
}

int
wkd_url_policy(const char *addr, int advanced, char *out, size_t outlen)
{
	return wkd_url(addr, advanced, 1, out, outlen);
}
