#include "config.h"

#include <string.h>

#include "buf.h"
#include "keyserver.h"

int
keyserver_base_ok(const char *base)
{
	const char *host;

	if (base == NULL || strncmp(base, "https://", 8) != 0)
		return 0;
	host = base + 8;
	if (*host == '\0' || *host == '/' || *host == ':')
		return 0;
	/* no userinfo, query, fragment, blanks or controls */
	for (const char *p = base; *p != '\0'; p++)
		if (*p == '@' || *p == '?' || *p == '#' || (unsigned char)*p <= ' ' ||
		    (unsigned char)*p >= 0x7f)
			return 0;
	return 1;
}

int
keyserver_url(const char *base, enum ks_kind kind, const char *addr, char *out,
	      size_t outlen)
{
	size_t blen;
	struct buf b;
	int r = -1;

	if (!keyserver_base_ok(base) || strchr(addr, '@') == NULL)
		return -1;
	blen = strlen(base);
	while (blen > 8 && base[blen - 1] == '/')
		blen--;
	buf_init(&b, outlen > 0 ? outlen - 1 : 0);
	buf_append(&b, base, blen);
	buf_puts(&b, kind == KS_VKS ? "/vks/v1/by-email/"
				    : "/pks/lookup?op=get&options=mr&search=");
	buf_put_pct(&b, addr, strlen(addr));
	if (!b.failed) {
		memcpy(out, b.data, b.len + 1);
		r = 0;
	}
	buf_free(&b);
	return r;
}
