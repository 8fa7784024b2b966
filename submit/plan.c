#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include "plan.h"

const char *
copy_kind_name(enum copy_kind k)
{
	switch (k) {
	case COPY_ENCRYPTED:
		return "encrypted";
	case COPY_PLAIN:
		return "plaintext";
	case COPY_PASSTHROUGH:
		return "already encrypted, passed through";
	}
	return "?";
}

static struct copy *
new_copy(struct plan *p, enum copy_kind kind, size_t max)
{
	struct copy *c = &p->v[p->n];

	c->kind = kind;
	c->n = 0;
	c->fd = -1;
	c->handed_off = 0;
	if ((c->rcpt = calloc(max ? max : 1, sizeof(*c->rcpt))) == NULL)
		return NULL;
	p->n++;
	return c;
}

enum ps_status
plan_build(const struct rcptlist *l, int passthrough, struct plan *p)
{
	struct copy *vis = NULL, *plain = NULL, *c;

	p->n = 0;
	/* at most: one visible copy, one per blind recipient, one plain */
	if ((p->v = calloc(l->n + 2, sizeof(*p->v))) == NULL)
		return PS_TEMPFAIL;
	if (passthrough) {
		if ((c = new_copy(p, COPY_PASSTHROUGH, l->n)) == NULL)
			goto nomem;
		for (size_t i = 0; i < l->n; i++)
			c->rcpt[c->n++] = i;
		return PS_OK;
	}
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].fpr[0] == '\0' || !l->v[i].visible)
			continue;
		if (vis == NULL && (vis = new_copy(p, COPY_ENCRYPTED, l->n)) == NULL)
			goto nomem;
		vis->rcpt[vis->n++] = i;
	}
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].fpr[0] == '\0' || l->v[i].visible)
			continue;
		if ((c = new_copy(p, COPY_ENCRYPTED, 1)) == NULL)
			goto nomem;
		c->rcpt[c->n++] = i;
	}
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].fpr[0] != '\0')
			continue;
		if (plain == NULL && (plain = new_copy(p, COPY_PLAIN, l->n)) == NULL)
			goto nomem;
		plain->rcpt[plain->n++] = i;
	}
	return PS_OK;
nomem:
	plan_free(p);
	return PS_TEMPFAIL;
}

void
plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].rcpt);
		if (p->v[i].fd >= 0)
			close(p->v[i].fd);
	}
	free(p->v);
	p->v = NULL;
	p->n = 0;
}
