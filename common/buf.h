/*++
 * NAME
 *	buf 3h
 * SUMMARY
 *	the one dynamic byte buffer, with a cap fixed at init
 * DESCRIPTION
 *	A buf grows on demand up to the cap given to buf_init(). An append
 *	that would pass the cap fails with -1, frees the storage and leaves
 *	the buffer empty and unusable until buf_init() is called again
 *	(curl's dynbuf does the same): a half-filled buffer is never used by
 *	mistake. The data is always NUL-terminated, the terminator is not
 *	counted in len and not in the cap.
 *
 *	No function of this module forks, execs or logs.
 *--*/
#ifndef PS_BUF_H
#define PS_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t alloc;
	size_t max;
	int failed;
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);

int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, int c);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Append p[0..n) with every line ending (CRLF, LF) replaced by eol;
 * a lone CR is kept. */
int buf_append_eol(struct buf *b, const char *p, size_t n, const char *eol);

/* Append s[0..n) percent-escaped for a URL (RFC 3986: unreserved
 * characters stay, every other byte becomes %XX). */
int buf_put_pct(struct buf *b, const char *s, size_t n);

/* The value of a base64 (radix-64) digit, or -1. */
int b64_digit(unsigned char c);

/* The data as a C string ("" when empty). */
const char *buf_str(const struct buf *b);

/* Free *pp and set it to NULL. */
#define x_free(pp)                                                             \
	do {                                                                   \
		free(*(pp));                                                   \
		*(pp) = NULL;                                                  \
	} while (0)

#endif
