#!/bin/bash
# make mutants: the mutation harness. Each tests/mutants/NN.patch is a
# small deliberate bug (its first line, "# property: ...", says which
# promise it breaks; "# tests: t_a t_b" names the tests to run first).
# For each patch, in a scratch copy of the tree: apply it, build, run the
# unit tests, then the named integration tests, then all the others,
# stopping at the first failure ("killed"). A patch no test notices
# "survived"; NN.survives next to it explains a survivor that cannot be
# killed. Prints "N killed, M survived" and the survivors.
#   JOBS=2        mutants at once (default: the number of cores)
#   MUTANTS="01 07"  only these
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
jobs=${JOBS:-$(nproc)}
work=$(mktemp -d /tmp/ps-mutants.XXXXXX) || exit 1
trap 'rm -rf "$work"' EXIT
start=$(date +%s)

patches=()
for p in "$top"/tests/mutants/[0-9]*.patch; do
	n=$(basename "$p" .patch)
	if [ -n "${MUTANTS:-}" ] && [[ " $MUTANTS " != *" $n "* ]]; then
		continue
	fi
	patches+=("$p")
done
[ ${#patches[@]} -gt 0 ] || { echo "mutants: no patches" >&2; exit 1; }

# one mutant: prints "NN killed|survived|broken: detail" on the last line
one() {
	local p=$1 n d log first t rest
	n=$(basename "$p" .patch)
	d=$work/$n
	log=$work/$n.log
	mkdir -p "$d"
	# the tree as it is now (committed or not), without build output
	(cd "$top" && git ls-files -co --exclude-standard -z) |
		(cd "$top" && xargs -0 cp --parents -a -t "$d" 2>/dev/null)
	if ! (cd "$d" && patch -s -p1 < "$p") > "$log" 2>&1; then
		echo "$n broken: the patch does not apply"
		return
	fi
	if ! (cd "$d" && ./configure > /dev/null 2>&1 && make -s postseal postseal-keyfetch postseal-net.so unit-tests) >> "$log" 2>&1; then
		echo "$n killed: the build fails"
		return
	fi
	if ! (cd "$d" && make -s check-unit) >> "$log" 2>&1; then
		echo "$n killed: unit tests"
		return
	fi
	first=$(sed -n 's/^# tests: //p' "$p" | head -n1)
	rest=""
	for t in "$top"/tests/integration/t_*.sh; do
		t=$(basename "$t" .sh)
		[[ " $first " == *" $t "* ]] || rest="$rest $t"
	done
	for t in $first $rest; do
		if ! (cd "$d" && POSTSEAL=$d/postseal SRCDIR=$d \
			"$d/tests/run-integration.sh" "$d/tests/integration/$t.sh") >> "$log" 2>&1; then
			echo "$n killed: $t"
			return
		fi
	done
	echo "$n survived"
}

i=0
for p in "${patches[@]}"; do
	( r=$(one "$p"); echo "$r" > "$work/$(basename "$p" .patch).result"; echo "$r" ) &
	i=$((i + 1))
	if [ $((i % jobs)) = 0 ]; then wait; fi
done
wait

killed=0 survived=0 broken=0 names=""
for p in "${patches[@]}"; do
	n=$(basename "$p" .patch)
	r=$(cat "$work/$n.result" 2>/dev/null || echo "$n broken: no result")
	case $r in
	*" killed"*) killed=$((killed + 1)) ;;
	*" survived") survived=$((survived + 1)); names="$names $n" ;;
	*) broken=$((broken + 1)) ;;
	esac
done
echo
echo "mutants: $killed killed, $survived survived$([ "$broken" = 0 ] || echo ", $broken broken") in $(( $(date +%s) - start )) s"
for n in $names; do
	prop=$(sed -n 's/^# property: //p' "$top/tests/mutants/$n.patch" | head -n1)
	if [ -f "$top/tests/mutants/$n.survives" ]; then
		echo "  survived: $n ($prop) -- explained: $(head -n1 "$top/tests/mutants/$n.survives")"
	else
		echo "  survived: $n ($prop)"
	fi
done
[ "$broken" = 0 ]
