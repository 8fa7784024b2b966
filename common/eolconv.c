#include "config.h"

#include <string.h>

#include "eolconv.h"
#include "fileio.h"

void
eolconv_init(struct eolconv *c, int fd, off_t len, int crlf)
{
	c->fd = fd;
	c->off = 0;
	c->end = len;
	c->ipos = c->ilen = 0;
	c->pending_cr = 0;
	c->crlf = crlf;
	c->canonical = 0;
	c->at_bol = 1;
}

static int
fill(struct eolconv *c)
{
	size_t want = sizeof(c->in);
	ssize_t r;

	if (c->off >= c->end)
		return 0;
	if ((off_t)want > c->end - c->off)
		want = (size_t)(c->end - c->off);
	r = pread_some(c->fd, c->in, want, c->off);
	if (r < 0)
		return -1;
	if (r == 0) {
		c->end = c->off; /* the file shrank under us */
		return 0;
	}
	c->off += r;
	c->ipos = 0;
	c->ilen = (size_t)r;
	return 1;
}

static size_t
emit_eol(struct eolconv *c, char *out)
{
	if (c->crlf) {
		out[0] = '\r';
		out[1] = '\n';
		return 2;
	}
	out[0] = '\n';
	return 1;
}

ssize_t
eolconv_read(struct eolconv *c, char *out, size_t outlen)
{
	size_t o = 0;

	while (o + 2 <= outlen) {
		if (c->ipos == c->ilen) {
			int r = fill(c);

			if (r < 0)
				return -1;
			if (r == 0) {
				if (c->pending_cr) {
					out[o++] = c->canonical ? ' ' : '\r';
					c->pending_cr = 0;
					c->at_bol = 0;
					continue; /* room for the line ending */
				}
				if (c->canonical && !c->at_bol) {
					o += emit_eol(c, out + o);
					c->at_bol = 1;
				}
				break;
			}
		}
		if (c->pending_cr) {
			c->pending_cr = 0;
			if (c->in[c->ipos] == '\n') {
				c->ipos++;
				o += emit_eol(c, out + o);
				c->at_bol = 1;
			} else {
				out[o++] = c->canonical ? ' ' : '\r';
				c->at_bol = 0;
			}
			continue;
		}
		/* copy a run of ordinary bytes in one go */
		{
			const char *s = c->in + c->ipos;
			size_t avail = c->ilen - c->ipos, room = outlen - o - 1, k = 0;

			if (room > avail)
				room = avail;
			while (k < room && s[k] != '\n' && s[k] != '\r')
				k++;
			memcpy(out + o, s, k);
			o += k;
			c->ipos += k;
			if (k > 0)
				c->at_bol = 0;
			if (k < room) {
				if (s[k] == '\n') {
					c->ipos++;
					o += emit_eol(c, out + o);
					c->at_bol = 1;
				} else { /* CR: decide when the next byte is known */
					c->ipos++;
					c->pending_cr = 1;
				}
			}
		}
	}
	return (ssize_t)o;
}

int
eolconv_copy(struct eolconv *c, int out_fd)
{
	char out[PS_IO_CHUNK];
	ssize_t n;

	while ((n = eolconv_read(c, out, sizeof(out))) > 0)
		if (write_all(out_fd, out, (size_t)n) < 0)
			return -1;
	return n < 0 ? -1 : 0;
}
