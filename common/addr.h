/*++
 * NAME
 *	addr 3h
 * SUMMARY
 *	addr-spec validation and comparison (RFC 5322 section 3.4.1)
 * DESCRIPTION
 *	addr_check() accepts exactly an addr-spec: a dot-atom or
 *	quoted-string local part, '@', and a host name or address literal.
 *	Bytes >= 0x80 are allowed in both parts (RFC 6531, SMTPUTF8). With
 *	ADDR_LOCAL_OK, a bare local part ("root", as cron passes it) is also
 *	accepted; the MTA qualifies it. Nothing that is not accepted here may
 *	reach an argv. An address that begins with '-' is refused although
 *	RFC 5322 allows it: too many programs would read it as an option.
 *
 *	Comparison: the local part is compared exactly (RFC 5321 leaves its
 *	meaning to the receiving host), the domain without regard to ASCII
 *	case.
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

/* Strip surrounding white space and one pair of angle brackets from an
 * argv address into out (size outlen). -1 when it does not fit. */
int addr_strip(const char *in, char *out, size_t outlen);

#endif
