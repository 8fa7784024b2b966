#!/bin/bash
# Postfix is the oracle (issue #14): every message of a corpus goes,
# with the same arguments, through Postfix's own sendmail into a private
# Postfix and through postseal into another one; whether each was
# accepted, the envelope Postfix queued, every header field (for an
# encrypted copy, outside and, decrypted, inside) and the body bytes are
# compared by lib/differential.py. A difference is allowed only where
# tests/data/differential/expected lists it, each one documented in
# postseal(8), DIFFERENCES FROM POSTFIX'S SENDMAIL.
#
# The corpus: CPython's email test messages (from the Python that runs
# here, or Debian's libpython3.11-testsuite), each to a recipient with a
# key and one without, and again with -t; the shell-script habits of
# tests/data/differential/habits.sh; every deliver case of the
# hostile-input corpus of issue #13 (tests/corpus/gen.py, generated here
# as t_corpus does it; its -bs dialogues are left out: their replies have
# no counterpart to be compared with); and every case directory named in
# PS_DIFF_CASES (space-separated). A case directory holds NAME.in
# (standard input) with NAME.args (one argument a line) or NAME.json
# ({"args": [...]}, cases whose "mode" is not "deliver" are skipped).
# PS_DIFF_ONLY=GLOB runs only the cases so named (habits/t-*,
# cpython/msg_35, corpus/addr-*).
# Prints the messages compared, accepted by both and differing; fails on
# a difference tests/data/differential/expected does not list.
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99

# alice and bob have keys (encrypted copies), and dave (a blind one)
ps_setup alice bob dave
# three instances alike, taking mail for every domain: the oracle, the
# oracle without header rewriting (-G: the protected header's oracle),
# and postseal's MTA
export PF_CATCHALL=1
for i in oracle plain; do
	pf_start "$T/$i" || {
		rc=$?
		[ "$rc" = 77 ] && skip "no private Postfix here"
		fail "the private Postfix $i did not start"
	}
	PF_MORE="${PF_MORE:-} $T/$i"
done
ps_postfix
ps_conf "$SENDMAIL"

C=$T/cases
mkdir -p "$C"
bash "$TESTS/data/differential/habits.sh" "$C/habits" || fail "habits.sh failed"

# CPython's test_email corpus: the running Python's, else Debian's
pydata=
for d in "$(python3 -c 'import test, os; print(os.path.dirname(test.__file__))' 2>/dev/null)/test_email/data" \
	/usr/lib/python3.11/test/test_email/data; do
	if compgen -G "$d/msg_*.txt" >/dev/null; then
		pydata=$d
		break
	fi
done
if [ -n "$pydata" ]; then
	mkdir -p "$C/cpython" "$C/cpython-t"
	for f in "$pydata"/msg_*.txt; do
		n=$(basename "$f" .txt)
		ln -s "$f" "$C/cpython/$n.in"
		printf '%s\n' -i -f sender@example.com -- alice@example.org carol@example.com \
			> "$C/cpython/$n.args"
		ln -s "$f" "$C/cpython-t/$n.in"
		printf '%s\n' -t -i -f sender@example.com > "$C/cpython-t/$n.args"
	done
	msgs=("$C"/cpython/*.in)
	ok "CPython's email corpus: ${#msgs[@]} messages from $pydata"
elif [ "${CI:-}" = true ]; then
	fail "CPython's test_email corpus is missing (install libpython3.11-testsuite)"
else
	echo "NOTE: CPython's test_email corpus is not installed; comparing the habits only" >&2
fi

# the hostile-input corpus of issue #13, generated as t_corpus does it
# (its sealed cases need a real OpenPGP message to alice); its cases are
# called corpus/NAME, and its -bs dialogues are not compared (see
# differential.py)
printf 'The real secret.\n' | gpg --batch -q --trust-model always --armor \
	--encrypt -r alice@example.org > "$T/real.asc" 2>/dev/null || fail "gpg --encrypt"
python3 "$TESTS/corpus/gen.py" "$C/corpus" --armor "$T/real.asc" > /dev/null || fail "gen.py"

dirs=("$C/habits")
[ -n "$pydata" ] && dirs+=("$C/cpython" "$C/cpython-t")
dirs+=("$C/corpus")
extra=${PS_DIFF_CASES:-}
for d in $extra; do
	[ -d "$d" ] || fail "PS_DIFF_CASES: no directory $d"
	dirs+=("$d")
done

python3 "$LIB/differential.py" --oracle "$T/oracle" --plain "$T/plain" --subject "$PF" \
	--postseal "$POSTSEAL" --conf "$T/conf" --gnupghome "$T/d" --work "$T/work" \
	--expected "$TESTS/data/differential/expected" ${PS_DIFF_ONLY:+--only "$PS_DIFF_ONLY"} \
	"${dirs[@]}" || fail "postseal and Postfix's sendmail differ where postseal(8) lists no difference"
ok "postseal accepts what Postfix's sendmail accepts, and hands on the same"
