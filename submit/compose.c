#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include <libetpan/libetpan.h>

#include "compose.h"
#include "eolconv.h"
#include "fileio.h"
#include "pslimits.h"
#include "log.h"

/* Fields that never leave in any copy: the blind ones, and those an
 * MTA removes as it takes a message (Postfix's cleanup drops
 * Return-Path, which only final delivery may write, RFC 5321 4.4, and
 * Content-Length). Written into the protected header, where no MTA
 * sees them, they would tell the reader what the copy that went out
 * did not say (and a Content-Length inside would count the LF body of
 * a CRLF entity). */
static int
never_sent(const struct header *h, size_t i)
{
	return header_name_is(h, i, "Bcc") || header_name_is(h, i, "Resent-Bcc") ||
	       header_name_is(h, i, "Return-Path") || header_name_is(h, i, "Content-Length");
}

/* MIME structure fields: they describe the body, so they go with it. */
static int
is_structural(const struct header *h, size_t i)
{
	return (h->f[i].name_len > 8 &&
		strncasecmp(h->raw.data + h->f[i].off, "Content-", 8) == 0) ||
	       header_name_is(h, i, "MIME-Version");
}

int
compose_is_pgp_mime(const struct header *h)
{
	struct mailmime_content *ct = NULL;
	int yes = 0;

	if (header_content_type(h, &ct) != PS_OK || ct == NULL)
		return 0;
	if (ct->ct_type != NULL &&
	    ct->ct_type->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE &&
	    ct->ct_type->tp_data.tp_composite_type->ct_type ==
		MAILMIME_COMPOSITE_TYPE_MULTIPART &&
	    ct->ct_subtype != NULL && strcasecmp(ct->ct_subtype, "encrypted") == 0) {
		char *proto = mailmime_content_param_get(ct, "protocol");

		yes = proto != NULL &&
		      strcasecmp(proto, "application/pgp-encrypted") == 0;
	}
	mailmime_content_free(ct);
	return yes;
}

/* Text with its line endings rewritten. A canonical (CRLF) entity may
 * hold a CR only before its LF (RFC 2045 2.10, RFC 5322 2.3): a lone
 * one becomes a space, as Postfix's cleanup makes it in what the MTA
 * passes on (cleanup_replace_stray_cr_lf), so that a decrypted copy
 * says what a plaintext one does. */
static int
put_text(struct buf *out, const char *p, size_t n, const char *eol)
{
	size_t start = out->len;

	if (buf_append_eol(out, p, n, eol) < 0)
		return -1;
	if (strcmp(eol, "\r\n") == 0)
		for (size_t k = start; k < out->len; k++)
			if (out->data[k] == '\r' && (k + 1 == out->len || out->data[k + 1] != '\n'))
				out->data[k] = ' ';
	return 0;
}

/* One field, with its line endings rewritten, and no white space
 * between its name and the colon: that is obsolete syntax (RFC 5322
 * 4.5), accepted on input but never generated. */
static int
put_field(struct buf *out, const struct header *h, size_t i, const char *eol)
{
	const struct hfield *f = &h->f[i];
	const char *p = h->raw.data + f->val_off;
	size_t n = f->off + f->len - f->val_off;

	if (buf_append(out, h->raw.data + f->off, f->name_len) < 0 || buf_putc(out, ':') < 0)
		return -1;
	/* a final field without its line ending (header at end of input) */
	if (n == 0 || p[n - 1] != '\n') {
		if (put_text(out, p, n, eol) < 0 || buf_puts(out, eol) < 0)
			return -1;
		return 0;
	}
	return put_text(out, p, n, eol);
}

static int
put_name(struct buf *out, const struct header *h, size_t i)
{
	return buf_append(out, h->raw.data + h->f[i].off, h->f[i].name_len);
}

static int
put_value(struct buf *out, const struct header *h, size_t i, const char *eol)
{
	size_t vlen;
	const char *v = header_value(h, i, &vlen);

	return put_text(out, v, vlen, eol);
}

/* Whether field i appears outside, and with which value. */
static int
outer_keeps(const struct header *h, size_t i)
{
	return !never_sent(h, i) && !is_structural(h, i) &&
	       !header_name_is(h, i, "Keywords") && !header_name_is(h, i, "Comments");
}

int
compose_inner_header(const struct header *h, int protect_subject,
		     struct buf *out)
{
	const char *eol = "\r\n";
	long ct = header_find(h, "Content-Type", 0);

	/* the Content-Type of the protected body, marked as carrying
	 * protected headers (RFC 9788 hp="cipher", legacy v1) */
	if (buf_puts(out, "Content-Type:") < 0)
		return -1;
	if (ct >= 0) {
		size_t vlen;
		const char *v = header_value(h, (size_t)ct, &vlen);

		while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t' ||
				    v[vlen - 1] == ';'))
			vlen--;
		if (put_text(out, v, vlen, eol) < 0)
			return -1;
	} else if (buf_puts(out, " text/plain; charset=us-ascii") < 0)
		return -1;
	if (buf_printf(out, ";%s protected-headers=\"v1\"; hp=\"cipher\"%s", eol,
		       eol) < 0)
		return -1;
	for (size_t i = 0; i < h->n; i++) {
		if (never_sent(h, i) || (long)i == ct ||
		    header_name_is(h, i, "MIME-Version"))
			continue;
		if (put_field(out, h, i, eol) < 0)
			return -1;
	}
	/* what the outside shows, so that the reader can tell (RFC 9788) */
	for (size_t i = 0; i < h->n; i++) {
		if (!outer_keeps(h, i))
			continue;
		if (buf_puts(out, "HP-Outer: ") < 0 || put_name(out, h, i) < 0 ||
		    buf_putc(out, ':') < 0)
			return -1;
		if (protect_subject && header_name_is(h, i, "Subject")) {
			if (buf_printf(out, " [...]%s", eol) < 0)
				return -1;
		} else if (put_value(out, h, i, eol) < 0 || buf_puts(out, eol) < 0)
			return -1;
	}
	return buf_puts(out, eol);
}

int
compose_outer_header(const struct header *h, int protect_subject,
		     const char *boundary, struct buf *out)
{
	const char *eol = "\n";

	for (size_t i = 0; i < h->n; i++) {
		if (!outer_keeps(h, i))
			continue;
		if (protect_subject && header_name_is(h, i, "Subject")) {
			if (put_name(out, h, i) < 0 || buf_puts(out, ": [...]\n") < 0)
				return -1;
			continue;
		}
		if (put_field(out, h, i, eol) < 0)
			return -1;
	}
	return buf_printf(out,
			  "MIME-Version: 1.0\n"
			  "Content-Type: multipart/encrypted;\n"
			  " protocol=\"application/pgp-encrypted\";\n"
			  " boundary=\"%s\"\n"
			  "\n"
			  "This is an OpenPGP/MIME encrypted message (RFC 4880 and "
			  "3156)\n"
			  "--%s\n"
			  "Content-Type: application/pgp-encrypted\n"
			  "Content-Description: PGP/MIME version identification\n"
			  "\n"
			  "Version: 1\n"
			  "\n"
			  "--%s\n"
			  "Content-Type: application/octet-stream; name=\"encrypted.asc\"\n"
			  "Content-Description: OpenPGP encrypted message\n"
			  "Content-Disposition: inline; filename=\"encrypted.asc\"\n"
			  "\n",
			  boundary, boundary, boundary);
}

enum ps_status
compose_plain(const struct message *m, int out_fd, char *why, size_t whylen)
{
	struct buf hb;
	struct eolconv *ec = NULL;
	enum ps_status st = PS_OK;

	buf_init(&hb, PS_COMPOSED_HEADER_MAX);
	for (size_t i = 0; i < m->hdr.n; i++)
		if (!never_sent(&m->hdr, i) && put_field(&hb, &m->hdr, i, "\n") < 0) {
			st = ps_fail(PS_TEMPFAIL, why, whylen, "header too large");
			goto out;
		}
	if (buf_putc(&hb, '\n') < 0 || write_all(out_fd, hb.data, hb.len) < 0) {
		st = ps_fail(PS_TEMPFAIL, why, whylen, "cannot write a copy: %s",
			     strerror(errno));
		goto out;
	}
	if ((ec = malloc(sizeof(*ec))) == NULL) {
		st = ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
		goto out;
	}
	eolconv_init(ec, m->body_fd, m->body_len, 0);
	if (eolconv_copy(ec, out_fd) < 0)
		st = ps_fail(PS_TEMPFAIL, why, whylen, "cannot write a copy: %s",
			     strerror(errno));
out:
	free(ec);
	buf_free(&hb);
	return st;
}

/* The plaintext that GPGME pulls: the inner header, then the body. */
struct inner_src {
	struct buf head;
	size_t hpos;
	struct eolconv body;
};

static ssize_t
inner_read(void *handle, void *buffer, size_t size)
{
	struct inner_src *src = handle;

	crash_point("encrypt");
	if (src->hpos < src->head.len) {
		size_t n = src->head.len - src->hpos;

		if (n > size)
			n = size;
		memcpy(buffer, src->head.data + src->hpos, n);
		src->hpos += n;
		return (ssize_t)n;
	}
	if (size < 2) {
		errno = EINVAL;
		return -1;
	}
	return eolconv_read(&src->body, buffer, size);
}

static int
make_boundary(char *out, size_t outlen)
{
	unsigned char r[12];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -1;
	snprintf(out, outlen,
		 "ps=%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1],
		 r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11]);
	return 0;
}

/* GPGME's recipient string: one fingerprint per line, after "--" so
 * that no line is taken for an option. Only hex digits pass. */
static int
recipients_string(const char *const *fprs, struct buf *out)
{
	size_t n = 0;

	if (buf_puts(out, "--\n") < 0)
		return -1;
	for (; *fprs != NULL; fprs++, n++) {
		size_t len = strlen(*fprs);

		if (len < 16 || len > 40 || strspn(*fprs, "0123456789ABCDEFabcdef") != len ||
		    buf_puts(out, *fprs) < 0 || buf_puts(out, "\n") < 0)
			return -1;
	}
	return n > 0 && buf_putc(out, '\0') == 0 ? 0 : -1;
}

enum ps_status
compose_encrypted(const struct message *m, gpgme_ctx_t ctx, const char *const *fprs,
		  int protect_subject, int out_fd, char *why, size_t whylen)
{
	struct gpgme_data_cbs cbs = {inner_read, NULL, NULL, NULL};
	struct inner_src *src = NULL;
	gpgme_data_t plain = NULL, cipher = NULL;
	gpgme_encrypt_result_t res;
	gpgme_error_t err;
	struct buf outer, recp;
	char boundary[64], tail[128];
	enum ps_status st = PS_OK;

	buf_init(&outer, PS_COMPOSED_HEADER_MAX);
	buf_init(&recp, 4096);
	if ((src = malloc(sizeof(*src))) == NULL) {
		st = ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
		goto out;
	}
	buf_init(&src->head, PS_COMPOSED_HEADER_MAX);
	src->hpos = 0;
	eolconv_init(&src->body, m->body_fd, m->body_len, 1);
	src->body.canonical = 1;
	if (make_boundary(boundary, sizeof(boundary)) < 0 ||
	    compose_inner_header(&m->hdr, protect_subject, &src->head) < 0 ||
	    compose_outer_header(&m->hdr, protect_subject, boundary, &outer) < 0) {
		st = ps_fail(PS_TEMPFAIL, why, whylen,
			     "cannot build the encrypted copy's header");
		goto out;
	}
	if (write_all(out_fd, outer.data, outer.len) < 0) {
		st = ps_fail(PS_TEMPFAIL, why, whylen, "cannot write a copy: %s",
			     strerror(errno));
		goto out;
	}
	if ((err = gpgme_data_new_from_cbs(&plain, &cbs, src)) != 0 ||
	    (err = gpgme_data_new_from_fd(&cipher, out_fd)) != 0) {
		st = ps_fail(PS_TEMPFAIL, why, whylen, "gpgme data: %s",
			     gpgme_strerror(err));
		goto out;
	}
	gpgme_set_armor(ctx, 1);
	/* by fingerprint: the keys are not listed again (one gpg run saved).
	 * ALWAYS_TRUST: each key has passed postseal's own acceptance
	 * (keyring_key_usable) before it gets here; gpg still refuses an
	 * expired or revoked one (invalid_recipients below). */
	if (recipients_string(fprs, &recp) < 0) {
		st = ps_fail(PS_TEMPFAIL, why, whylen, "bad key fingerprint");
		goto out;
	}
	err = gpgme_op_encrypt_ext(ctx, NULL, recp.data, GPGME_ENCRYPT_ALWAYS_TRUST, plain,
				   cipher);
	res = gpgme_op_encrypt_result(ctx);
	if (res != NULL && res->invalid_recipients != NULL) {
		st = ps_fail(PS_TEMPFAIL, why, whylen,
			     "gpg refused key %s: %s",
			     res->invalid_recipients->fpr ? res->invalid_recipients->fpr
							  : "?",
			     gpgme_strerror(res->invalid_recipients->reason));
		goto out;
	}
	if (err) {
		st = ps_fail(PS_TEMPFAIL, why, whylen, "encryption failed: %s",
			     gpgme_strerror(err));
		goto out;
	}
	snprintf(tail, sizeof(tail), "\n--%s--\n", boundary);
	if (write_all(out_fd, tail, strlen(tail)) < 0)
		st = ps_fail(PS_TEMPFAIL, why, whylen, "cannot write a copy: %s",
			     strerror(errno));
out:
	if (plain != NULL)
		gpgme_data_release(plain);
	if (cipher != NULL)
		gpgme_data_release(cipher);
	if (src != NULL)
		buf_free(&src->head);
	free(src);
	buf_free(&outer);
	buf_free(&recp);
	return st;
}
