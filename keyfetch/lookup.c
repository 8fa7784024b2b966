#include "config.h"

#include <stdio.h>
#include <string.h>

#include "lookup.h"

const char *
lk_result_name(enum lk_result r)
{
	switch (r) {
	case LK_FOUND:
		return "FOUND";
	case LK_NOT_FOUND:
		return "NOT_FOUND";
	case LK_TEMPFAIL:
		return "TEMPFAIL";
	case LK_BAD:
		return "BAD";
	}
	return "?";
}

const char *
lk_source_name(enum lk_source s)
{
	switch (s) {
	case SRC_LOCAL:
		return "local";
	case SRC_PINNED:
		return "pinned";
	case SRC_DANE:
		return "dane";
	case SRC_WKD:
		return "wkd";
	case SRC_VKS:
		return "vks";
	case SRC_HKP:
		return "hkp";
	}
	return "?";
}

int
lk_source_by_name(const char *name)
{
	for (int s = 0; s < SRC_COUNT; s++)
		if (strcmp(lk_source_name((enum lk_source)s), name) == 0)
			return s;
	return -1;
}

void
lk_answer_init(struct lk_answer *a, enum lk_source src, const char *why)
{
	a->src = src;
	a->res = LK_TEMPFAIL;
	snprintf(a->why, sizeof(a->why), "%s", why);
	a->url[0] = '\0';
	a->ttl = 0;
	a->insecure = 0;
	a->dnssec = DNSSEC_UNKNOWN;
	a->lasting = 0;
	buf_init(&a->data, PS_WKD_REPLY_MAX);
}
