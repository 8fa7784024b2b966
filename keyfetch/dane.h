/*++
 * NAME
 *	dane 3h
 * SUMMARY
 *	DANE OPENPGPKEY names (RFC 7929)
 * DESCRIPTION
 *	dane_owner_name() builds the owner name of an address's OPENPGPKEY
 *	record: the first 28 octets of SHA2-256 over the local part exactly
 *	as given (RFC 7929 section 3: no case folding), in hex, then
 *	"._openpgpkey." and the domain. Pure: no I/O. -1 when the address
 *	has no '@' or the name does not fit.
 *--*/
#ifndef PS_DANE_H
#define PS_DANE_H

#include <stddef.h>

int dane_owner_name(const char *addr, char *out, size_t outlen);

#endif
