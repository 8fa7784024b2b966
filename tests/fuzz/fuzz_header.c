/* libFuzzer target: the header parser (submit/header.c) on raw bytes,
 * which intake does not always produce (NUL, lines that are no field):
 * the split, every field's bounds, lookups, the address fields (each
 * address given to the callback passes addr_check() and does not begin
 * with '-'), Content-Type, and adding a field. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libetpan/libetpan.h>

#include "addr.h"
#include "header.h"
#include "pslimits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
each_addr(const char *a, void *ctx)
{
	char why[PS_WHY_MAX];

	if (a[0] == '-' || addr_check(a, strlen(a), ADDR_LOCAL_OK, why, sizeof(why)) < 0)
		abort();
	return ++*(int *)ctx > PS_RCPT_MAX ? -1 : 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"To", "Cc", "Bcc", "From", "Resent-To"};
	struct header h;
	struct mailmime_content *ct = NULL;
	char why[PS_WHY_MAX];
	int n = 0;

	header_init(&h);
	if (buf_append(&h.raw, (const char *)data, size) < 0 ||
	    header_split(&h, why, sizeof(why)) != PS_OK)
		goto out;
	for (size_t i = 0; i < h.n; i++) {
		const struct hfield *f = &h.f[i];
		size_t vlen;

		if (f->off + f->len > h.raw.len || f->len == 0 || f->name_len == 0 ||
		    f->val_off < f->off + f->name_len || f->val_off > f->off + f->len ||
		    f->val_off + f->val_len > f->off + f->len ||
		    !header_name_valid(h.raw.data + f->off, f->name_len))
			abort();
		if (header_value(&h, i, &vlen) != h.raw.data + f->val_off || vlen != f->val_len)
			abort();
		if (header_find(&h, "Subject", i) < 0 && header_name_is(&h, i, "Subject"))
			abort();
	}
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		header_addresses(&h, names[k], ADDR_LOCAL_OK, each_addr, &n, why, sizeof(why));
	if (header_content_type(&h, &ct) == PS_OK && ct != NULL)
		mailmime_content_free(ct);
	header_add(&h, "X-Fuzz", "1", why, sizeof(why));
out:
	header_free(&h);
	return 0;
}
