#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "header.h"

int
th_fd_with(const char *data, size_t len)
{
	int fd = memfd_create("th", MFD_CLOEXEC);
	size_t off = 0;

	assert_true(fd >= 0);
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		assert_true(w > 0);
		off += (size_t)w;
	}
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

char *
th_slurp(int fd, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *p = malloc(cap);
	ssize_t r;

	assert_non_null(p);
	while ((r = pread(fd, p + n, cap - n - 1, (off_t)n)) > 0) {
		n += (size_t)r;
		if (cap - n < 2) {
			cap *= 2;
			p = realloc(p, cap);
			assert_non_null(p);
		}
	}
	p[n] = '\0';
	if (len != NULL)
		*len = n;
	return p;
}

size_t
th_count(const char *hay, const char *needle)
{
	size_t n = 0, nl = strlen(needle);

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += nl)
		n++;
	return n;
}

void
th_header_load(struct header *h, const char *raw)
{
	char why[256];

	header_free(h);
	header_init(h);
	assert_int_equal(buf_puts(&h->raw, raw), 0);
	assert_int_equal(header_split(h, why, sizeof(why)), PS_OK);
}
