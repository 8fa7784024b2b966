/*++
 * NAME
 *	policy 3h
 * SUMMARY
 *	per-recipient policy: sections, precedence, user tightening, decisions
 * DESCRIPTION
 *	The policy sections of a configuration file are [default],
 *	[domain example.org], [domain *.example.org] and [address
 *	bob@example.org]. Each sets some of the keys below; for one
 *	recipient, every key is taken from the most specific section that
 *	sets it (address, then the address without its extension, then
 *	exact domain, then the longest matching wildcard, then [default],
 *	then the built-in default): field by field, so a [domain] section
 *	that only sets encrypt leaves every other key to [default].
 *
 *	Section names and recipients are matched on their canonical form
 *	(addr_canonical(), addr.h): CEO@Example.com, "ceo"@example.com and
 *	ceo@example.com are one mailbox, and bücher.example is
 *	xn--bcher-kva.example; section names are kept in that form. With
 *	recipient-delimiter (Postfix's recipient_delimiter, from the site
 *	file's [default] or [domain] sections that apply to the recipient),
 *	ceo+tag@example.com also falls under [address ceo@example.com].
 *
 *	  encrypt          never < opportunistic < require
 *	  sources          ordered subset of: local pinned dane wkd vks hkp
 *	  require-sources  subset (hkp is refused: anyone can upload any key)
 *	  no-key           tls-opportunistic < tls-required < refuse
 *	  unknown          as-no-key < tempfail
 *	  mixed            plaintext < split < refuse-keyless < refuse
 *	  key-change       accept < warn < refuse
 *	  gateway-key      a 40-hex-digit fingerprint or an absolute key file
 *	  encrypt-to-self  yes | no
 *	  protect-subject  no < yes
 *	  lookup-timeout   1-60 seconds
 *	  user-may-loosen  no | yes (site file only)
 *	  recipient-delimiter  none | up to 8 characters (site file only, not
 *	                   in [address] sections)
 *	("<" runs from looser to stricter.)
 *
 *	The user's file (~/.config/postseal/postseal.conf) may only tighten:
 *	per key, its value is used when it is at least as strict as the
 *	site's for that recipient (sources and require-sources: a subset;
 *	gateway-key: never), or when the site's user-may-loosen is yes;
 *	otherwise the site's value stays and a warning names the user's line.
 *
 *	policy_decide() turns a recipient's effective policy and discovery
 *	result into an outcome; every submission decision goes through it,
 *	and "postseal policy explain --lookup" shows the same.
 *--*/
#ifndef PS_POLICY_H
#define PS_POLICY_H

#include <limits.h>
#include <stddef.h>

#include "lookup.h"
#include "status.h"

enum pol_key {
	PK_ENCRYPT,
	PK_SOURCES,
	PK_REQUIRE_SOURCES,
	PK_NO_KEY,
	PK_UNKNOWN,
	PK_MIXED,
	PK_KEY_CHANGE,
	PK_GATEWAY_KEY,
	PK_ENCRYPT_TO_SELF,
	PK_PROTECT_SUBJECT,
	PK_LOOKUP_TIMEOUT,
	PK_USER_MAY_LOOSEN,
	PK_RECIPIENT_DELIMITER,
	PK_COUNT
};

enum pol_encrypt { ENC_NEVER, ENC_OPPORTUNISTIC, ENC_REQUIRE };
enum pol_nokey { NK_TLS_OPPORTUNISTIC, NK_TLS_REQUIRED, NK_REFUSE };
enum pol_unknown { UK_AS_NO_KEY, UK_DEFER };
enum pol_mixed { MX_PLAINTEXT, MX_SPLIT, MX_REFUSE_KEYLESS, MX_REFUSE };

struct pol_values {
	unsigned set;	    /* bit (1 << pol_key) per key set */
	int line[PK_COUNT]; /* where each was set */
	enum pol_encrypt encrypt;
	enum lk_source sources[SRC_COUNT];
	size_t nsources;
	unsigned require_sources; /* bit (1 << lk_source) */
	enum pol_nokey no_key;
	enum pol_unknown unknown;
	enum pol_mixed mixed;
	enum key_change key_change;
	char gateway_key[PATH_MAX];
	int encrypt_to_self;
	int protect_subject;
	long lookup_timeout_ms;
	int user_may_loosen;
	char recipient_delimiter[9]; /* "" = none */
};

enum pol_scope { SCOPE_DEFAULT, SCOPE_DOMAIN, SCOPE_WILDCARD, SCOPE_ADDRESS };

struct pol_section {
	enum pol_scope scope;
	char name[PS_ADDR_MAX + 1]; /* canonical (addr_canonical()): domain
				     * without "*.", or address */
	int line;
	struct pol_values v;
};

struct pol_file {
	char path[PATH_MAX]; /* "" when there is none */
	struct pol_section *sec;
	size_t n, alloc;
};

/* The effective policy of one recipient, with where each value came from. */
struct pol_effective {
	struct pol_values v;
	const char *file[PK_COUNT]; /* NULL: built-in */
	int line[PK_COUNT];
	char section[PK_COUNT][PS_ADDR_MAX + 16]; /* "[domain x]" */
	char warn[PS_WHY_MAX];			   /* a user line ignored */
};

/* Each outcome of policy_decide(). */
enum pol_outcome {
	OUT_ENCRYPT,	 /* to the key found */
	OUT_GATEWAY,	 /* to the gateway key */
	OUT_PLAIN,	 /* plaintext, TLS opportunistic */
	OUT_PLAIN_TLS,	 /* plaintext, only over verified TLS */
	OUT_REFUSE,	 /* refused: nothing at all is sent */
	OUT_REFUSE_ONE,	 /* this recipient refused, the others go */
	OUT_TEMPFAIL	 /* inconclusive: the recipient waits in the queue
			    for another lookup (unknown = defer) */
};

struct pol_decision {
	enum pol_outcome out;
	enum pol_key by; /* the key that decided it */
	char why[PS_WHY_MAX];
};

const char *pol_key_name(enum pol_key k);
const char *pol_outcome_name(enum pol_outcome o);

void pol_file_init(struct pol_file *f);
void pol_file_free(struct pol_file *f);

/* A section header "[default]", "[domain X]", "[address A]" (name is
 * the text between the brackets): 1 and a new section in *f when it is
 * a policy section, 0 when it is not one, -1 with why when it is one
 * but malformed or a duplicate. */
int pol_section_start(struct pol_file *f, const char *name, int line, char *why,
		      size_t whylen);

/* "key = value" in the last section: PS_OK, or PS_CONFIG with why
 * (without file:line). */
enum ps_status pol_set(struct pol_file *f, const char *key, const char *val,
		       int line, int user_file, char *why, size_t whylen);

/* After the whole file: cross-key checks (vks/hkp need their servers). */
enum ps_status pol_check(const struct pol_file *f, const char *vks_server,
			 const char *hkp_server, int *line, char *why,
			 size_t whylen);

/* The built-in defaults. */
void pol_defaults(struct pol_values *v);

/* The effective policy for addr from the site file and, when not NULL,
 * the user's file. */
void pol_resolve(const struct pol_file *site, const struct pol_file *user,
		 const char *addr, struct pol_effective *pe);

/* Format one key's effective value. */
void pol_format(const struct pol_effective *pe, enum pol_key k, char *out,
		size_t outlen);

struct disc_result;
/* The outcome for one recipient: its effective policy, and the
 * discovery result (NULL when encrypt = never: nothing was looked up). */
void policy_decide(const struct pol_effective *pe, const struct disc_result *r,
		   struct pol_decision *d);

/* The list-level rule: when some recipients get encrypted copies and
 * others plaintext, each plaintext recipient's mixed applies: split
 * (unchanged), refuse-keyless (OUT_REFUSE_ONE), refuse (OUT_REFUSE), or
 * plaintext (every encrypted recipient whose encrypt is not require
 * becomes OUT_PLAIN too). */
void policy_decide_list(const struct pol_effective *pe, struct pol_decision *dec,
			size_t n);

/* A plaintext copy that needs verified TLS cannot be sent when the
 * handoff cannot enforce it: the decision becomes a refusal that says
 * so (never a silent plaintext). */
void policy_apply_transport(struct pol_decision *d, int tls_enforceable);

/* postseal policy check|explain ...: argv[0] is "policy". */
int policy_cli(int argc, char **argv);

/* "file:line" (or "built-in") of where key k was set for pe. */
void pol_origin(const struct pol_effective *pe, enum pol_key k, char *out,
		size_t outlen);

#endif
