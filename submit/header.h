/*++
 * NAME
 *	header 3h
 * SUMMARY
 *	the header section of a submitted message: fields, lookup, addresses
 * DESCRIPTION
 *	header_split() cuts a raw header section (as read from stdin, LF or
 *	CRLF) into fields. A field is "name:" at the start of a line plus its
 *	continuation lines. The raw bytes are kept as they came, so that what
 *	is re-emitted is what the user wrote; only line endings are changed
 *	on output. Fields are capped at PS_HEADER_FIELDS_MAX, the section at
 *	PS_HEADER_MAX, each plus the room left for what postseal adds
 *	(PS_HEADER_ADDED_FIELDS, PS_HEADER_ADDED_BYTES); submit_deliver()
 *	holds a new submission to the caps themselves. A NUL byte or a line that is neither a field nor a
 *	continuation is an error (PS_DATAERR).
 *
 *	header_addresses() parses an address field with libetpan and
 *	validates each addr-spec with addr_check(); the whole value must be
 *	consumed (trailing garbage is an error).
 *--*/
#ifndef PS_HEADER_H
#define PS_HEADER_H

#include <stddef.h>

#include "buf.h"
#include "status.h"

struct hfield {
	size_t off;	 /* start of the field in raw */
	size_t len;	 /* whole field, including its final line ending */
	size_t name_len; /* the name, without the colon */
	size_t val_off;	 /* value: after the colon */
	size_t val_len;	 /* up to, not including, the final line ending */
};

struct header {
	struct buf raw;
	struct hfield *f;
	size_t n;
	size_t alloc;
};

void header_init(struct header *h);
void header_free(struct header *h);

/* Split h->raw into fields. */
enum ps_status header_split(struct header *h, char *why, size_t whylen);

/* Append a new field "name: value" (value without line ending). */
enum ps_status header_add(struct header *h, const char *name,
			  const char *value, char *why, size_t whylen);

/* Index of the first field called name at or after index start, or -1. */
long header_find(const struct header *h, const char *name, size_t start);

int header_name_is(const struct header *h, size_t i, const char *name);

/* The raw value of field i (after the colon), not NUL-terminated. */
const char *header_value(const struct header *h, size_t i, size_t *len);

/* Callback for each addr-spec found in an address field. */
typedef int (*addr_cb)(const char *addr, void *ctx);

/* Parse every field called name as an address list; call cb for each
 * mailbox. flags are passed to addr_check(). */
enum ps_status header_addresses(const struct header *h, const char *name,
				int flags, addr_cb cb, void *ctx, char *why,
				size_t whylen);

/* Parse one address-list value. */
enum ps_status address_list_parse(const char *val, size_t len, int flags,
				  addr_cb cb, void *ctx, char *why,
				  size_t whylen);

struct mailmime_content;

/* Parse the (first) Content-Type field with libetpan: PS_OK with *ct set
 * (NULL when there is none; free with mailmime_content_free()),
 * PS_DATAERR when it cannot be parsed, PS_TEMPFAIL when out of memory. */
enum ps_status header_content_type(const struct header *h,
				   struct mailmime_content **ct);

/* Whether the message is being resent: it has a Resent- field of RFC
 * 5322 3.6.6 (Resent-Date, -From, -Sender, -To, -Cc, -Bcc, -Message-ID)
 * or Resent-Reply-To, the fields Postfix's cleanup counts. Then the
 * fields an MTA adds when missing are the Resent- ones. */
int header_is_resent(const struct header *h);

/* Whether a field name is a valid RFC 5322 field name. */
int header_name_valid(const char *p, size_t len);

#endif
