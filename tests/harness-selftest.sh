#!/bin/bash
# The integration harness must report a failure that a test swallowed: a
# fail() inside a pipeline or $( ) ends only a subshell and the test goes
# on to exit 0; run-integration.sh must still say FAIL (fail() records it
# in $PS_FAILED). Also that a test exiting non-zero fails and one
# exiting 0 passes. Needs POSTSEAL and SRCDIR like the harness.
set -u
: "${POSTSEAL:?}" "${SRCDIR:?}"
d=$(mktemp -d /tmp/ps-harness.XXXXXX) || exit 1
trap 'rm -rf "$d"' EXIT
for kind in pipe subst plain ok; do
	{
		printf '. "$SRCDIR/tests/integration/lib/common.sh" || exit 99\n'
		case $kind in
		pipe) printf 'echo x | { read -r _; fail "in a pipeline"; }\n' ;;
		subst) printf 'v=$(fail "in a command substitution")\n' ;;
		plain) printf 'fail "plainly"\n' ;;
		ok) printf 'true\n' ;;
		esac
		printf 'exit 0\n'
	} > "$d/t_$kind.sh"
	"$SRCDIR/tests/run-integration.sh" "$d/t_$kind.sh" > "$d/$kind.out" 2>&1
	rc=$?
	if [ "$kind" = ok ]; then
		[ "$rc" = 0 ] && grep -q "^PASS: t_ok" "$d/$kind.out" ||
			{ echo "harness-selftest: a passing test was not reported as passing"; cat "$d/$kind.out"; exit 1; }
	else
		[ "$rc" != 0 ] && grep -q "^FAIL: t_$kind" "$d/$kind.out" ||
			{ echo "harness-selftest: a failure ($kind) was swallowed"; cat "$d/$kind.out"; exit 1; }
	fi
done
echo "harness-selftest: a fail in a pipeline, in \$( ) or plain fails the test; a clean test passes"
