/*++
 * NAME
 *	pslimits 3h
 * SUMMARY
 *	every size cap of postseal, in one place
 * DESCRIPTION
 *	Every buffer that holds bytes from stdin, the network, a file or a
 *	child process is bounded by one of these numbers. A module that needs
 *	a new cap adds it here, with the reason, rather than inventing a local
 *	constant.
 *--*/
#ifndef PS_LIMITS_H
#define PS_LIMITS_H

/* The whole header section of a submitted message. Postfix's
 * header_size_limit is 102400; we allow more because we must also hold
 * the header for re-emission, but a header larger than this is hostile. */
#define PS_HEADER_MAX (256 * 1024)

/* Number of header fields in one message. */
#define PS_HEADER_FIELDS_MAX 1000

/* What postseal may add to a submitted header (Date, Message-ID): room
 * beyond the two caps above, which are the submitted message's. */
#define PS_HEADER_ADDED_FIELDS 8
#define PS_HEADER_ADDED_BYTES 4096

/* One address (addr-spec), RFC 5321 section 4.5.3.1.3 path limit. */
#define PS_ADDR_MAX 256

/* The canonical form of an address (addr_canonical()): its domain as
 * A-labels can be longer than the U-labels that were given, up to 255
 * octets (RFC 1035), the local part never grows. */
#define PS_ADDR_CANON_MAX (PS_ADDR_MAX + 256)

/* Envelope recipients of one submission (Postfix's
 * smtpd_recipient_limit default is 1000). */
#define PS_RCPT_MAX 1000

/* Display name given with -F. */
#define PS_FULLNAME_MAX 256

/* The site or user configuration file. */
#define PS_CONFIG_MAX (64 * 1024)

/* [default], [domain ...] and [address ...] sections of one file. */
#define PS_POLICY_SECTIONS_MAX 16384

/* One configuration line. */
#define PS_CONFIG_LINE_MAX 1024

/* The in-memory part of a composed message header (inner or outer):
 * the original header plus what we add. */
#define PS_COMPOSED_HEADER_MAX (2 * PS_HEADER_MAX + 64 * 1024)

/* The size of the buffers used to stream message bodies: the body is
 * never held whole in memory. */
#define PS_IO_CHUNK (64 * 1024)

/* One "why" message (error reason). */
#define PS_WHY_MAX 512

/* Lines of a body checked when deciding whether it is inline PGP. */
#define PS_INLINE_PGP_PROBE 128

/* A WKD, VKS or HKP reply: one address's keys, never more (the draft
 * suggests keys stay small; 256 KiB leaves room for a few big ones). */
#define PS_WKD_REPLY_MAX (256 * 1024)

/* Redirects followed for a WKD fetch, https only. */
#define PS_WKD_REDIRS 2

/* Addresses kept per host name resolved for HTTPS (A and AAAA together),
 * and host names one lookup run resolves (two per address for WKD, the
 * hosts of redirects and of the keyservers). */
#define PS_HOST_ADDRS 8
#define PS_HOSTS_MAX (4 * PS_RCPT_MAX + 16)

/* Already-encrypted input (sealed.h, pgpmsg.h, armor.h).
 * Session key packets of one message: one per recipient key (gpg adds
 * the sender's), so more than PS_RCPT_MAX is no message of ours. */
#define PS_SEALED_ESK_MAX 1024

/* One session key packet's body: an RSA-16384 PKESK is about 2 KiB, the
 * post-quantum composite ones less; more is no session key. */
#define PS_SEALED_ESK_LEN_MAX 8192

/* Armor headers (Version, Comment, Charset) of one armored message:
 * implementations write none, or one or two. */
#define PS_ARMOR_HEADERS_MAX 4

/* One line of a body examined for pass-through: RFC 5322's 998
 * characters and the line ending; a longer line is not one of ours. */
#define PS_SEALED_LINE_MAX 1000

/* One part header field of a PGP/MIME structure, unfolded. */
#define PS_SEALED_FIELD_MAX 1024

/* Non-blank lines of a PGP/MIME preamble (clients write one). */
#define PS_SEALED_PREAMBLE_LINES 4

#endif
