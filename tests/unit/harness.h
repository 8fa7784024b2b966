/* Helpers shared by the cmocka unit tests. */
#ifndef PS_TEST_HARNESS_H
#define PS_TEST_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/types.h>

/* An fd (rewound) holding exactly the given bytes. */
int th_fd_with(const char *data, size_t len);

/* Read a whole fd from offset 0 into a malloc'd, NUL-terminated string. */
char *th_slurp(int fd, size_t *len);

/* Count occurrences of needle in hay. */
size_t th_count(const char *hay, const char *needle);

struct header;
/* Replace *h with the split header section raw (fails the test if it
 * does not split). */
void th_header_load(struct header *h, const char *raw);

#endif
