/*++
 * NAME
 *	lookup 3h
 * SUMMARY
 *	the answer vocabulary of every key source
 * DESCRIPTION
 *	Every source (local keyring, cache, DANE, WKD, VKS, HKP) answers each
 *	address with one of:
 *	  LK_FOUND      a key was obtained (it is still judged before use);
 *	  LK_NOT_FOUND  the source proved there is none (404/410, secure
 *	                NXDOMAIN, ...);
 *	  LK_TEMPFAIL   the source could not answer (timeout, 5xx, DNS
 *	                failure, TLS error);
 *	  LK_BAD        the source answered something unacceptable (bogus
 *	                DNSSEC, redirect to http, oversize reply, no usable
 *	                key in the reply).
 *	TEMPFAIL and BAD are never NOT_FOUND: whoever can block traffic must
 *	not be able to turn "unknown" into "no key" and so into plaintext.
 *--*/
#ifndef PS_LOOKUP_H
#define PS_LOOKUP_H

#include <stddef.h>

#include "buf.h"
#include "pslimits.h"

enum lk_result { LK_FOUND, LK_NOT_FOUND, LK_TEMPFAIL, LK_BAD };

enum lk_source { SRC_LOCAL, SRC_PINNED, SRC_DANE, SRC_WKD, SRC_VKS, SRC_HKP };
#define SRC_COUNT 6

/* What a pinned key replaced by another means (policy key-change). */
enum key_change { KC_REFUSE, KC_WARN, KC_ACCEPT };

/* What DNSSEC said about the names a network answer depended on. */
enum lk_dnssec { DNSSEC_UNKNOWN, DNSSEC_INSECURE, DNSSEC_SECURE, DNSSEC_BOGUS };

struct lk_answer {
	enum lk_source src;
	enum lk_result res;
	char why[PS_WHY_MAX];
	char url[1024];	  /* where the key came from, or was looked for */
	struct buf data;  /* the reply (binary key material), capped */
	long ttl;	  /* seconds the answer may be cached, 0: the default */
	int insecure;	  /* DANE: the zone is not signed (a domain-wide fact) */
	enum lk_dnssec dnssec; /* of the DNS answers this answer rests on */
	int lasting;	  /* TEMPFAIL/BAD: a lasting property of the server
			     (no address, connection refused, a certificate
			     for another name, not a key...), not a passing
			     failure (timeout, SERVFAIL, 5xx) */
};

/* Start an answer as "not looked up" (TEMPFAIL: never "no key"). */
void lk_answer_init(struct lk_answer *a, enum lk_source src, const char *why);

const char *lk_result_name(enum lk_result r);
const char *lk_source_name(enum lk_source s);

/* The source of that name, or -1. */
int lk_source_by_name(const char *name);

#endif
