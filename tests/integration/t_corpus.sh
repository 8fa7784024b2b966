#!/bin/bash
# The hostile-input corpus (issue #13): tests/corpus/gen.py writes some 300
# cases (header syntax, addresses, recipient counts, MIME, fake and real
# sealed input, -bs dialogues, command lines), each with the exit codes
# the specifications allow; tests/corpus/run.py runs postseal on each
# against a recording fake MTA and checks exit status, sanitizer reports,
# hangs, the MTA's argv, that nothing refused was handed on, that no copy
# for a require recipient is anything but encrypted or carries the case's
# canary, that no copy carries Bcc, short stderr on failure, and the
# -bs replies. One line per failing case.
#   CORPUS_ONLY=REGEX     run only the matching cases
#   CORPUS_TIMEOUT=S      seconds a case may take (default 60)
#   CORPUS_JOBS=N         cases run at once (default: the CPUs)
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99

command -v python3 >/dev/null || skip "python3 is not installed"
ps_setup alice

# a real OpenPGP message to alice, for the sealed cases
printf 'The real secret.\n' | gpg --batch -q --trust-model always --armor \
	--encrypt -r alice@example.org > "$T/real.asc" 2>/dev/null || fail "gpg --encrypt"

python3 "$TESTS/corpus/gen.py" "$T/cases" --armor "$T/real.asc" || fail "gen.py"
mkdir -p "$T/work"
args=(--postseal "$POSTSEAL" --cases "$T/cases" --work "$T/work"
	--timeout "${CORPUS_TIMEOUT:-60}")
[ -n "${CORPUS_JOBS:-}" ] && args+=(--jobs "$CORPUS_JOBS")
[ -n "${CORPUS_ONLY:-}" ] && args+=(--only "$CORPUS_ONLY")
# run.py prints one line per failing case and exits 1 if any failed; its
# status is this test's (not fail() in a pipeline: that would only leave a
# subshell)
python3 "$TESTS/corpus/run.py" "${args[@]}"
rc=$?
[ "$rc" = 0 ] || exit 1
ok "every corpus case: exit status, MTA argv, nothing refused handed on, require copies encrypted without the canary, no Bcc, -bs replies"
