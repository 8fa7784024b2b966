/*++
 * NAME
 *	addr 3h
 * SUMMARY
 *	addr-spec validation and comparison (RFC 5322 section 3.4.1)
 * DESCRIPTION
 *	addr_check() accepts exactly an addr-spec: a dot-atom or
 *	quoted-string local part, '@', and a host name or address literal.
 *	UTF-8 is allowed in both parts (RFC 6531, SMTPUTF8), but only
 *	well-formed UTF-8 (RFC 3629): other bytes >= 0x80 are refused. With
 *	ADDR_LOCAL_OK, a bare local part ("root", as cron passes it) is also
 *	accepted; the MTA qualifies it. Nothing that is not accepted here may
 *	reach an argv. An address that begins with '-' is refused although
 *	RFC 5322 allows it: too many programs would read it as an option.
 *
 *	Comparison: addr_equal() compares the local part exactly (RFC 5321
 *	leaves its meaning to the receiving host) and the domain without
 *	regard to ASCII case; it decides which envelope recipients are the
 *	same, and what is handed to the MTA is never rewritten.
 *
 *	Matching (policy sections, key user IDs, the key cache) uses one
 *	canonical form instead, addr_canonical(): the local part without
 *	regard to ASCII case (as GnuPG and WKD treat it) and without quotes
 *	it does not need ("ceo" -> ceo; a quoted-pair stands for its
 *	character), the domain as lower-case A-labels (IDNA, UTS #46
 *	non-transitional processing with libidn2: bücher.example ->
 *	xn--bcher-kva.example). A domain that is not a valid
 *	internationalised name under non-transitional processing is tried
 *	with transitional processing (IDNA2003 symbols such as U+2603), and
 *	is otherwise kept as written, ASCII letters lowercased.
 *--*/
#ifndef PS_ADDR_H
#define PS_ADDR_H

#include <stddef.h>

#define ADDR_LOCAL_OK 0x01

/* 0 when s[0..len) is acceptable, else -1 with a reason in why. */
int addr_check(const char *s, size_t len, int flags, char *why, size_t whylen);

/* Position of the '@' that separates local part and domain, or NULL. */
const char *addr_at(const char *s);

/* Same mailbox: local part exact, domain case-insensitive. */
int addr_equal(const char *a, const char *b);

/* Same domain (case-insensitive); addresses without '@' never match. */
int addr_equal_domain(const char *a, const char *b);

/* The canonical (matching) form of the address or bare local part s
 * into out (size outlen, PS_ADDR_CANON_MAX + 1 always suffices for an
 * address addr_check() accepts). Returns 0; 1 when the domain is not a
 * valid internationalised domain name (kept as written, ASCII letters
 * lowercased); -1 when s is not an addr-spec or bare local part, or out
 * is too small (out is then ""). */
int addr_canonical(const char *s, char *out, size_t outlen);

/* The canonical form of a domain name alone (no address literal): the
 * same values as addr_canonical(). */
int addr_canonical_domain(const char *s, char *out, size_t outlen);

/* Same mailbox for matching: equal canonical forms (addr_equal() when
 * either has none). */
int addr_same_mailbox(const char *a, const char *b);

/* The canonical address canon without the extension of its local part:
 * cut at the first character of delims (Postfix's recipient_delimiter),
 * unless that would leave the local part or the extension empty. Returns
 * 1 when an extension was removed, 0 when there is none (out is canon),
 * -1 when out is too small. */
int addr_strip_extension(const char *canon, const char *delims, char *out,
			 size_t outlen);

/* The canonical address canon with the A-labels of its domain as
 * (lower-case) U-labels, for finding user IDs written that way: 1 when
 * that differs from canon, 0 when not (out is canon), -1 when out is too
 * small. */
int addr_unicode_domain(const char *canon, char *out, size_t outlen);

/* Strip surrounding white space and one pair of angle brackets from an
 * argv address into out (size outlen). -1 when it does not fit. */
int addr_strip(const char *in, char *out, size_t outlen);

#endif
