#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <idn2.h>

#include "addr.h"
#include "pslimits.h"
#include "status.h"

static int
is_atext(unsigned char c)
{
	if (c >= 0x80)
		return 1;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* Whether s[0..len) is well-formed UTF-8 (RFC 3629 section 4: no
 * overlong forms, no surrogates, nothing above U+10FFFF). RFC 6531 allows
 * UTF-8 in addresses, not any byte >= 0x80. */
static int
utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		unsigned char lo = 0x80, hi = 0xbf;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			lo = c == 0xe0 ? 0xa0 : 0x80;
			hi = c == 0xed ? 0x9f : 0xbf;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			lo = c == 0xf0 ? 0x90 : 0x80;
			hi = c == 0xf4 ? 0x8f : 0xbf;
		} else
			return 0;
		if (len - i - 1 < n || s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (size_t k = 2; k <= n; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return 0;
		i += n + 1;
	}
	return 1;
}

/* Parse the local part at s[*pos..len); stop at '@' or end. */
static int
parse_local_part(const char *s, size_t len, size_t *pos, char *why,
		 size_t whylen)
{
	size_t i = *pos;

	if (i < len && s[i] == '"') {
		i++;
		while (i < len && s[i] != '"') {
			unsigned char c = (unsigned char)s[i];

			if (c == '\\') {
				if (i + 1 >= len || (unsigned char)s[i + 1] < 0x20 ||
				    s[i + 1] == 0x7f)
					return ps_why(why, whylen,
						       "bad quoted pair in local part");
				i += 2;
				continue;
			}
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return ps_why(why, whylen,
					       "control character in local part");
			i++;
		}
		if (i >= len)
			return ps_why(why, whylen,
				       "unterminated quoted local part");
		i++;
		*pos = i;
		return 0;
	}
	/* dot-atom: atext+ ("." atext+)* */
	for (;;) {
		size_t start = i;

		while (i < len && is_atext((unsigned char)s[i]))
			i++;
		if (i == start) {
			if (i < len && s[i] != '@')
				return ps_why(why, whylen,
					       "character 0x%02x not allowed in local part",
					       (unsigned char)s[i]);
			return ps_why(why, whylen, "empty atom in local part");
		}
		if (i < len && s[i] == '.') {
			i++;
			continue;
		}
		break;
	}
	*pos = i;
	return 0;
}

static int
parse_domain(const char *s, size_t len, size_t *pos, char *why, size_t whylen)
{
	size_t i = *pos;

	if (i < len && s[i] == '[') {
		i++;
		while (i < len && s[i] != ']') {
			unsigned char c = (unsigned char)s[i];

			if (c <= 0x20 || c == 0x7f || c == '[' || c == '\\')
				return ps_why(why, whylen,
					       "bad character in address literal");
			i++;
		}
		if (i >= len)
			return ps_why(why, whylen, "unterminated address literal");
		*pos = i + 1;
		return 0;
	}
	for (;;) {
		size_t start = i;

		while (i < len) {
			unsigned char c = (unsigned char)s[i];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '-' || c >= 0x80))
				break;
			i++;
		}
		if (i == start)
			return ps_why(why, whylen, "empty label in domain");
		if (i - start > 63)
			return ps_why(why, whylen, "domain label longer than 63");
		if (s[start] == '-' || s[i - 1] == '-')
			return ps_why(why, whylen,
				       "domain label begins or ends with '-'");
		if (i < len && s[i] == '.') {
			i++;
			continue;
		}
		break;
	}
	*pos = i;
	return 0;
}

int
addr_check(const char *s, size_t len, int flags, char *why, size_t whylen)
{
	size_t pos = 0;

	if (len == 0)
		return ps_why(why, whylen, "empty address");
	if (len > PS_ADDR_MAX)
		return ps_why(why, whylen, "address longer than %d bytes",
			       PS_ADDR_MAX);
	if (memchr(s, '\0', len) != NULL)
		return ps_why(why, whylen, "NUL byte in address");
	if (!utf8_valid((const unsigned char *)s, len))
		return ps_why(why, whylen, "address is not valid UTF-8");
	/* Legal in RFC 5322, but an argv entry starting with '-' is read as
	 * an option by too many programs: refuse it outright. */
	if (s[0] == '-')
		return ps_why(why, whylen, "address begins with '-'");
	if (parse_local_part(s, len, &pos, why, whylen) < 0)
		return -1;
	if (pos == len) {
		if (flags & ADDR_LOCAL_OK)
			return 0;
		return ps_why(why, whylen, "no '@domain' in address");
	}
	if (s[pos] != '@')
		return ps_why(why, whylen,
			       "character 0x%02x not allowed in local part",
			       (unsigned char)s[pos]);
	pos++;
	if (parse_domain(s, len, &pos, why, whylen) < 0)
		return -1;
	if (pos != len)
		return ps_why(why, whylen, "trailing garbage after domain");
	return 0;
}

const char *
addr_at(const char *s)
{
	/* The separating '@' is the last one: a quoted local part may
	 * contain '@', a domain never does. */
	return strrchr(s, '@');
}

int
addr_equal(const char *a, const char *b)
{
	const char *at_a = addr_at(a), *at_b = addr_at(b);
	size_t la, lb;

	if ((at_a == NULL) != (at_b == NULL))
		return 0;
	if (at_a == NULL)
		return strcmp(a, b) == 0;
	la = (size_t)(at_a - a);
	lb = (size_t)(at_b - b);
	if (la != lb || memcmp(a, b, la) != 0)
		return 0;
	return strcasecmp(at_a + 1, at_b + 1) == 0;
}

int
addr_equal_domain(const char *a, const char *b)
{
	const char *at_a = addr_at(a), *at_b = addr_at(b);

	return at_a != NULL && at_b != NULL && strcasecmp(at_a + 1, at_b + 1) == 0;
}

int
addr_strip(const char *in, char *out, size_t outlen)
{
	const char *s = in, *e = in + strlen(in);

	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (e - s >= 2 && *s == '<' && e[-1] == '>') {
		s++;
		e--;
	}
	if ((size_t)(e - s) >= outlen)
		return -1;
	memcpy(out, s, (size_t)(e - s));
	out[e - s] = '\0';
	return 0;
}


/* A bounded writer for the canonical forms: over is set, and nothing more
 * is written, once the next byte would not fit with its NUL. */
struct canon_out {
	char *p;
	size_t len, cap;
	int over;
};

static void
co_putc(struct canon_out *o, char c)
{
	if (o->over || o->len + 1 >= o->cap) {
		o->over = 1;
		return;
	}
	o->p[o->len++] = c;
	o->p[o->len] = '\0';
}

static char
ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static void
co_put_lower(struct canon_out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		co_putc(o, ascii_lower(s[i]));
}

/* s[0..n) is a dot-atom: atext+ ("." atext+)* */
static int
is_dot_atom(const char *s, size_t n)
{
	size_t i = 0;

	for (;;) {
		size_t start = i;

		while (i < n && is_atext((unsigned char)s[i]))
			i++;
		if (i == start)
			return 0;
		if (i == n)
			return 1;
		if (s[i] != '.')
			return 0;
		i++;
	}
}

/* The characters a local part stands for: a quoted string without its
 * quotes, each quoted-pair as the character it quotes; a dot-atom as it
 * is. s[0..n) is a local part parse_local_part() accepted; out holds n
 * bytes. Returns the length. */
static size_t
local_content(const char *s, size_t n, char *out)
{
	size_t len = 0;

	if (n < 2 || s[0] != '"') {
		memcpy(out, s, n);
		return n;
	}
	for (size_t i = 1; i + 1 < n; i++) {
		if (s[i] == '\\' && i + 2 < n)
			i++;
		out[len++] = s[i];
	}
	return len;
}

/* The canonical local part for the characters c[0..n): ASCII letters
 * lowercased, unquoted when a dot-atom can say it, else quoted with a
 * quoted-pair for '"' and '\' only. */
static void
put_local(struct canon_out *o, const char *c, size_t n)
{
	if (is_dot_atom(c, n)) {
		co_put_lower(o, c, n);
		return;
	}
	co_putc(o, '"');
	for (size_t i = 0; i < n; i++) {
		if (c[i] == '"' || c[i] == '\\')
			co_putc(o, '\\');
		co_putc(o, ascii_lower(c[i]));
	}
	co_putc(o, '"');
}

/* The canonical domain for d[0..n) (a domain or address literal that
 * parse_domain() accepted): 0, or 1 when it is not a valid IDN. */
static int
put_domain(struct canon_out *o, const char *d, size_t n)
{
	char u[PS_ADDR_MAX + 1];
	char *a = NULL;
	int ascii = 1;

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)d[i] >= 0x80)
			ascii = 0;
	/* an ASCII name is only lowercased: IDNA would refuse names that
	 * mail and DNS take ("ab--cd"), and A-labels are not checked */
	if (ascii || d[0] == '[' || n >= sizeof(u)) {
		co_put_lower(o, d, n);
		return ascii || d[0] == '[' ? 0 : 1;
	}
	memcpy(u, d, n);
	u[n] = '\0';
	/* UTS #46 non-transitional, as browsers and Postfix (ICU) map names;
	 * a name IDNA2008 refuses but IDNA2003 took (a symbol) is tried
	 * transitionally, so that it still meets its A-label form */
	if (idn2_to_ascii_8z(u, &a, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT) != IDN2_OK) {
		a = NULL;
		if (idn2_to_ascii_8z(u, &a, IDN2_TRANSITIONAL | IDN2_NFC_INPUT) != IDN2_OK) {
			co_put_lower(o, d, n);
			return 1;
		}
	}
	co_put_lower(o, a, strlen(a));
	idn2_free(a);
	return 0;
}

int
addr_canonical(const char *s, char *out, size_t outlen)
{
	char why[16], content[PS_ADDR_MAX + 1];
	struct canon_out o = {out, 0, outlen, 0};
	size_t len = strlen(s), pos = 0;
	int rc = 0;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	if (addr_check(s, len, ADDR_LOCAL_OK, why, sizeof(why)) < 0 ||
	    parse_local_part(s, len, &pos, why, sizeof(why)) < 0)
		return -1;
	put_local(&o, content, local_content(s, pos, content));
	if (pos < len) {
		co_putc(&o, '@');
		rc = put_domain(&o, s + pos + 1, len - pos - 1);
	}
	if (o.over) {
		out[0] = '\0';
		return -1;
	}
	return rc;
}

int
addr_canonical_domain(const char *s, char *out, size_t outlen)
{
	struct canon_out o = {out, 0, outlen, 0};
	size_t len = strlen(s), pos = 0;
	char why[16];
	int rc;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	if (len == 0 || len > PS_ADDR_MAX || s[0] == '[' ||
	    parse_domain(s, len, &pos, why, sizeof(why)) < 0 || pos != len)
		return -1;
	rc = put_domain(&o, s, len);
	if (o.over) {
		out[0] = '\0';
		return -1;
	}
	return rc;
}

int
addr_same_mailbox(const char *a, const char *b)
{
	char ca[PS_ADDR_CANON_MAX + 1], cb[PS_ADDR_CANON_MAX + 1];

	if (addr_canonical(a, ca, sizeof(ca)) < 0 || addr_canonical(b, cb, sizeof(cb)) < 0)
		return addr_equal(a, b);
	return strcmp(ca, cb) == 0;
}

int
addr_strip_extension(const char *canon, const char *delims, char *out, size_t outlen)
{
	char why[16], content[PS_ADDR_MAX + 1];
	struct canon_out o = {out, 0, outlen, 0};
	size_t len = strlen(canon), pos = 0, n, cut;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	if (delims == NULL || delims[0] == '\0' || len > PS_ADDR_MAX ||
	    parse_local_part(canon, len, &pos, why, sizeof(why)) < 0)
		goto unchanged;
	n = local_content(canon, pos, content);
	cut = 0;
	while (cut < n && strchr(delims, content[cut]) == NULL)
		cut++;
	/* as Postfix: no empty extension; and no empty local part */
	if (cut == 0 || cut + 1 >= n)
		goto unchanged;
	put_local(&o, content, cut);
	for (size_t i = pos; i < len; i++)
		co_putc(&o, canon[i]);
	if (o.over) {
		out[0] = '\0';
		return -1;
	}
	return 1;
unchanged:
	if (len >= outlen)
		return -1;
	memcpy(out, canon, len + 1);
	return 0;
}

int
addr_unicode_domain(const char *canon, char *out, size_t outlen)
{
	const char *at = addr_at(canon);
	size_t len = strlen(canon), local;
	char *u = NULL;
	int n;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	if (at == NULL || strstr(at + 1, "xn--") == NULL ||
	    idn2_to_unicode_8z8z(at + 1, &u, 0) != IDN2_OK) {
		if (len >= outlen)
			return -1;
		memcpy(out, canon, len + 1);
		return 0;
	}
	local = (size_t)(at - canon);
	n = snprintf(out, outlen, "%.*s@%s", (int)local, canon, u);
	idn2_free(u);
	if (n < 0 || (size_t)n >= outlen) {
		out[0] = '\0';
		return -1;
	}
	return strcmp(out, canon) != 0;
}
