#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

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
