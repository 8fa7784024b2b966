#!/usr/bin/env python3
"""tests/mutants/gen.py: write tests/mutants/NN.patch for every mutant below.

Each mutant replaces one occurrence of OLD with NEW in FILE (the n-th
when OLD is not unique), and says which promise it breaks and which
integration tests should notice first. When the code moves, fix OLD
here and run this again; a mutant whose OLD is gone makes it fail.
"""
import difflib
import os
import sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

M = [
    ("01", "submit/compose.c",
     'return header_name_is(h, i, "Bcc") || header_name_is(h, i, "Resent-Bcc") ||',
     'return 0 && header_name_is(h, i, "Bcc") || 0 && header_name_is(h, i, "Resent-Bcc") ||', 1,
     "Bcc and Resent-Bcc no longer stripped: blind recipients disclosed", "t_bad_input t_e2e_postfix"),
    ("02", "submit/plan.c", "if (l->v[i].fpr[0] == '\\0' || !l->v[i].visible)",
     "if (l->v[i].fpr[0] == '\\0')", 1,
     "blind keyed recipients encrypted into the visible copy", "t_e2e_postfix"),
    ("03", "keyfetch/keyring.c",
     "if (key == NULL || key->revoked || key->expired || key->disabled ||",
     "if (key == NULL || key->disabled ||", 1,
     "revoked or expired keys used", "t_key_selection t_wkd"),
    ("04", "submit/compose.c", 'if (protect_subject && header_name_is(h, i, "Subject")) {',
     'if (0 && protect_subject && header_name_is(h, i, "Subject")) {', 1,
     "the outer Subject is left as it is: the subject leaks", "t_e2e_postfix"),
    ("05", "policy/policy.c", "\tif (v->encrypt == ENC_REQUIRE) {\n\t\td->out = OUT_REFUSE;",
     "\tif (v->encrypt == ENC_REQUIRE) {\n\t\td->out = OUT_PLAIN;", 1,
     "encrypt = require without a key sends plaintext", "t_policy"),
    ("06", "submit/sealed.c", "\t\t\tif (n != 0)\n\t\t\t\treturn no(e, \"text after the closing delimiter\");",
     "\t\t\tif (0 && n != 0)\n\t\t\t\treturn no(e, \"text after the closing delimiter\");", 1,
     "the already-encrypted detector accepts text after the PGP/MIME structure: plaintext passes",
     "t_passthrough t_corpus"),
    ("06b", "common/armor.c", "\tif (want != (a->crc & 0xFFFFFFUL))", "\tif (0 && want != (a->crc & 0xFFFFFFUL))", 1,
     "the armor checksum is not checked", "t_passthrough t_corpus"),
    ("06c", "submit/sealed.c", "if (++preamble > PS_SEALED_PREAMBLE_LINES || !vocabulary_text(p, n))",
     "if (0 && (++preamble > PS_SEALED_PREAMBLE_LINES || !vocabulary_text(p, n)))", 1,
     "plaintext in the PGP/MIME preamble passes as encrypted", "t_passthrough t_corpus"),
    ("07", "submit/handoff.c", '\targv[n++] = "--";\n', "", 1,
     "the MTA argv loses \"--\": a recipient can be read as an option", "t_bad_input"),
    ("08", "submit/smtptls.c", "if (bol && in[k] == '.')", "if (0 && bol && in[k] == '.')", 1,
     "no dot-stuffing in the strict SMTP client: a line '.' ends the message early",
     "t_smtp"),
    ("09", "keyfetch/keyring.c",
     "return f[i][0] != '\\0' && (strcmp(f[i], canon) == 0 || addr_equal(f[i], canon));",
     "return 1 || (f[i][0] != '\\0' && (strcmp(f[i], canon) == 0 || addr_equal(f[i], canon)));", 1,
     "a key is used for an address none of its user IDs carries", "t_key_selection t_wkd"),
    ("10", "keyfetch/dnsfetch.c", "\t\ta->res = LK_BAD;\n\t\tsnprintf(a->why, sizeof(a->why), \"DNSSEC bogus",
     "\t\ta->res = LK_NOT_FOUND;\n\t\tsnprintf(a->why, sizeof(a->why), \"DNSSEC bogus", 1,
     "a bogus DANE answer means 'no key': a forged denial forces plaintext", "t_dane t_discover"),
    ("12", "policy/policy.c", "strcasecmp(s->name, dom) == 0 ? 500000 : 0",
     "strcasecmp(s->name, dom) == 0 ? 2000000 : 0", 1,
     "[domain] outranks [address]: the admin's per-address rule silently ignored", "t_policy"),
    ("13", "keyfetch/discover.c", "if (cache_get(d->cache, addr, s, &e) != 1 || e.expires <= now)",
     "if (cache_get(d->cache, addr, s, &e) != 1 || (e.expires <= now && e.res != LK_NOT_FOUND))", 1,
     "a cached NOT_FOUND never expires: a recipient who publishes a key never gets encrypted mail",
     "t_discover"),
    ("14", "common/status.c", "{PS_TEMPFAIL, EX_TEMPFAIL, \"temporary failure\"}",
     "{PS_TEMPFAIL, EX_OK, \"temporary failure\"}", 1,
     "a temporary failure exits 0: the message is lost", "t_keyring_damage t_netmod"),
    ("15", "submit/smtp.c", "eolconv_init(&ec, fd, offset + len, 1);",
     "eolconv_init(&ec, fd, offset + len, 0);", 1,
     "the SMTP relay gets bare LF, not CRLF", "t_smtp"),
    ("16", "keyfetch/discover.c", "\tif (inconclusive) {\n\t\tr->state = DS_UNKNOWN;",
     "\tif (0 && inconclusive) {\n\t\tr->state = DS_UNKNOWN;", 1,
     "an inconclusive lookup becomes 'no key': whoever blocks traffic forces plaintext",
     "t_discover t_world"),
    ("17", "keyfetch/discover.c", "if (o->key_change == KC_REFUSE) {",
     "if (0 && o->key_change == KC_REFUSE) {", 1,
     "key-change = refuse ignored: a pinned key is replaced silently", "t_discover"),
    ("18", "policy/policy.c", "\tif (s == SRC_HKP)\n\t\treturn 0;", "\tif (0 && s == SRC_HKP)\n\t\treturn 0;", 1,
     "HKP satisfies encrypt = require", "t_keyserver"),
    ("19", "keyfetch/store.c", '"import-options self-sigs-only import-clean\\n"', '""', 1,
     "keys from the network keep third-party signatures (keyserver flooding)", "t_keyserver t_wkd"),
    ("20", "policy/policy.c", "if (!pe->v.user_may_loosen && !not_looser(uv, &pe->v, (enum pol_key)k)) {",
     "if (0 && !pe->v.user_may_loosen && !not_looser(uv, &pe->v, (enum pol_key)k)) {", 1,
     "a user's file loosens the site policy", "t_policy"),
    ("21", "submit/handoff.c", "tls_required ? SMTP_TLS_REQUIRED : SMTP_TLS_OPPORTUNISTIC",
     "SMTP_TLS_OPPORTUNISTIC", 1,
     "a tls-required copy goes over opportunistic TLS", "t_smtp"),
    ("22", "keyfetch/wkdfetch.c", 'if (strncasecmp(loc, "https://", 8) != 0) {',
     'if (0 && strncasecmp(loc, "https://", 8) != 0) {', 1,
     "WKD follows a redirect to plain http", "t_wkd"),
    ("23", "submit/submit.c", "if (to_self && self[0] != '\\0') {", "if (0 && to_self && self[0] != '\\0') {", 1,
     "encrypt-to-self never adds the sender's key", "t_policy"),
    ("24", "submit/compose.c",
     'return header_name_is(h, i, "Bcc") || header_name_is(h, i, "Resent-Bcc") ||',
     'return header_name_is(h, i, "Bcc") ||', 1,
     "Resent-Bcc no longer stripped", "t_bad_input"),
    ("25", "policy/policy.c", "\t\t    pe[i].v.encrypt == ENC_REQUIRE)", "\t\t    0)", 1,
     "mixed = plaintext also downgrades encrypt = require recipients", "t_policy"),
    ("11", "submit/queue.c", 'ps_why(tmp, sizeof(tmp), "%s/tmp/%s", dir, id);',
     'ps_why(tmp, sizeof(tmp), "%s/q/%s", dir, id);', 1,
     "a queue file is written in place in q/: a runner may send it half-written", "t_queue"),
    ("26", "policy/policy.c", "\t       d->why);\n\tsnprintf(d->why, sizeof(d->why), \"%s\", w);\n\td->out = OUT_REFUSE;",
     "\t       d->why);\n\tsnprintf(d->why, sizeof(d->why), \"%s\", w);\n\td->out = OUT_PLAIN;", 1,
     "no-key = tls-required with the sendmail handoff sends plaintext instead of refusing", "t_policy"),
    ("27", "submit/submit.c", "if (key->revoked || key->expired || key->disabled || key->invalid ||",
     "if (key->disabled || key->invalid ||", 1,
     "a revoked or expired gateway key is accepted (75 forever instead of 78)", "t_policy"),
    ("28", "submit/intake.c", "\tif (memchr(p, '\\0', n) != NULL)\n\t\treturn ps_fail(PS_DATAERR, in->why, in->whylen,\n\t\t\t       \"NUL byte in the message body\");",
     "\tif (0 && memchr(p, '\\0', n) != NULL)\n\t\treturn ps_fail(PS_DATAERR, in->why, in->whylen,\n\t\t\t       \"NUL byte in the message body\");", 1,
     "NUL bytes in the body accepted", "t_bad_input"),
    ("29", "submit/submit.c", '\tif (header_find(h, date, 0) < 0) {', '\tif (0 && header_find(h, date, 0) < 0) {', 1,
     "Date no longer added: the protected header lacks it, the MTA's differs", "t_bad_input t_e2e_postfix"),
    ("29b", "submit/submit.c", '\tif (header_find(h, msgid, 0) < 0) {', '\tif (0 && header_find(h, msgid, 0) < 0) {', 1,
     "Message-ID no longer added", "t_bad_input t_differential"),
    ("30", "submit/submit.c", 'strpbrk(c->fullname, "\\r\\n") != NULL', '0', 1,
     "-F with a line break accepted: header injection through the full name", "t_bad_input"),
    ("31", "submit/queue.c", "copy_fd(fd, off, out) < 0 ||\n\t    fsync(out) < 0) {", "copy_fd(fd, off, out) < 0) {", 1,
     "a queue file is not synced before its rename: a power cut loses queued mail", "t_queue"),
    ("32", "submit/smtp.c", "use_ssl = (need == SMTP_TLS_REQUIRED || cf->smtp_auth != SMTP_AUTH_NONE)",
     "use_ssl = (need == SMTP_TLS_REQUIRED)", 1,
     "AUTH over a relay without STARTTLS: the password in clear", "t_smtp"),
    ("33", "keyfetch/dnsfetch.c", "\t\th->out.state = HOST_BOGUS;", "\t\th->out.state = HOST_NXDOMAIN;", 1,
     "a bogus answer for openpgpkey.DOMAIN reads as NXDOMAIN: a forced switch to the direct method",
     "t_wkd_direct"),
    ("34", "submit/queue.c", "\t\tif (flock(fd, LOCK_EX | LOCK_NB) < 0) {\n\t\t\tqs->locked++;",
     "\t\tif (0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {\n\t\t\tqs->locked++;", 1,
     "two queue runners hand off one copy twice", "t_queue"),
    # promises added with issues #11-#13
    ("40", "submit/smtp.c", "verify && password[0] != '\\0') {", "verify && 0) {", 1,
     "the SMTP password goes over TLS whose certificate did not verify", "t_smtp"),
    ("41", "keyfetch/keyring.c", "\telse if (keyring_damaged(ctx, why, whylen))", "\telse if (0)", 1,
     "a damaged keyring means 'no key': plaintext for a recipient whose key is in it",
     "t_keyring_damage"),
    ("42", "keyfetch/discover.c", '"wkd-seen", now) == 1)', '"wkd-seen", now) == 2)', 1,
     "domain memory ignored: a domain known to publish WKD that starts failing gets plaintext",
     "t_world t_discover"),
    ("43", "keyfetch/discover.c", "else if (cache_pin_get(d->cache, addr, &pin) == 1)",
     "else if (cache_pin_get(d->cache, addr, &pin) == 2)", 1,
     "a pinned address whose WKD starts failing gets plaintext", "t_discover t_world"),
    ("44", "keyfetch/discover.c", "sec == DNSSEC_SECURE && !w->lasting", "0", 1,
     "a passing WKD failure of a DNSSEC-signed domain means 'no WKD'", "t_discover"),
    ("45", "submit/submit.c", "\t\tif (dec[i].out == OUT_TEMPFAIL) {", "\t\tif (0) {", 1,
     "an inconclusive recipient is not deferred (handed off as decided)", "t_defer t_world"),
    ("46", "common/proc.c", "kill(-pid,", "kill(pid,", 0,
     "a hanging MTA's children survive the time limit", "t_mta_timeout"),
    ("47", "submit/queue.c", "(long)sb.st_uid};", "(long)0};", 1,
     "the maildrop pickup records a wrong submitter uid", "t_accounts"),
    ("48", "submit/queue.c", "(sb.st_mode & 07077) != 0 ||", "0 ||", 1,
     "the maildrop pickup takes a file others could read or write", "t_accounts"),
    ("49", "common/proc.c", "\t\tif (dup2(2, 1) < 0)", "\t\tif (0)", 1,
     "the MTA's stdout reaches postseal's (the -bs SMTP dialogue)", "t_mta_timeout"),
    ("50", "keyfetch/wkdfetch.c",
     'curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_file != NULL ? o->ca_file : PS_CA_BUNDLE);',
     'if (o->ca_file != NULL)\n\t\tcurl_easy_setopt(h, CURLOPT_CAINFO, o->ca_file);', 1,
     "without ca-file no certificate verifies: no WKD key is found (the lab-only bug)", "t_world"),
    ("51", "submit/submit.c", "\t\tif (np > 0)\n\t\t\tbreak;", "\t\tif (0)\n\t\t\tbreak;", 1,
     "a copy refused for good does not stop the copies after it", "t_mta_timeout"),
]


def make(n, path, old, new, nth, prop, tests):
    src = open(os.path.join(TOP, path)).read()
    if nth == 0:  # every occurrence
        if old not in src:
            sys.exit(f"gen.py: mutant {n}: not found in {path}: {old!r}")
        mut = src.replace(old, new)
    else:
        pos = -1
        for _ in range(nth):
            pos = src.find(old, pos + 1)
            if pos < 0:
                sys.exit(f"gen.py: mutant {n}: not found in {path}: {old!r}")
        mut = src[:pos] + new + src[pos + len(old):]
    diff = difflib.unified_diff(src.splitlines(True), mut.splitlines(True),
                                f"a/{path}", f"b/{path}")
    with open(os.path.join(TOP, "tests", "mutants", f"{n}.patch"), "w") as f:
        f.write(f"# property: {prop}\n# tests: {tests}\n")
        f.writelines(diff)


for m in M:
    make(*m)
print(f"gen.py: {len(M)} mutants written")
