#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void
buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->max = max;
	b->failed = 0;
}

void
buf_free(struct buf *b)
{
	x_free(&b->data);
	b->len = 0;
	b->alloc = 0;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static int
buf_fail(struct buf *b)
{
	buf_free(b);
	b->failed = 1;
	return -1;
}

static int
buf_reserve(struct buf *b, size_t n)
{
	size_t need, nalloc;
	char *p;

	if (b->failed)
		return -1;
	if (n > b->max || b->len > b->max - n)
		return buf_fail(b);
	need = b->len + n + 1;
	if (need <= b->alloc)
		return 0;
	nalloc = b->alloc ? b->alloc : 256;
	while (nalloc < need)
		nalloc = nalloc > (size_t)-1 / 2 ? need : nalloc * 2;
	if (nalloc > b->max + 1)
		nalloc = b->max + 1;
	if ((p = realloc(b->data, nalloc)) == NULL)
		return buf_fail(b);
	b->data = p;
	b->alloc = nalloc;
	return 0;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_putc(struct buf *b, int c)
{
	char ch = (char)c;

	return buf_append(b, &ch, 1);
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return buf_fail(b);
	if (buf_reserve(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

int
buf_append_eol(struct buf *b, const char *p, size_t n, const char *eol)
{
	size_t eollen = strlen(eol);
	size_t i = 0, start = 0;

	while (i < n) {
		if (p[i] == '\n' || (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')) {
			if (buf_append(b, p + start, i - start) < 0 ||
			    buf_append(b, eol, eollen) < 0)
				return -1;
			i += p[i] == '\r' ? 2 : 1;
			start = i;
		} else
			i++;
	}
	return buf_append(b, p + start, n - start);
}

const char *
buf_str(const struct buf *b)
{
	return b->data != NULL ? b->data : "";
}

int
buf_put_pct(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
		    c == '~') {
			if (buf_putc(b, c) < 0)
				return -1;
		} else if (buf_printf(b, "%%%02X", c) < 0)
			return -1;
	}
	return 0;
}

int
b64_digit(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}
