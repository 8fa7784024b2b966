#!/bin/bash
# tests/mutants/mk.sh NN FILE SED-EXPR PROPERTY TESTS: write NN.patch, the
# change SED-EXPR makes to FILE (from the tree's top), with its property
# and the tests to run first. The tree itself is not changed.
set -eu
cd "$(dirname "$0")/../.."
n=$1 f=$2 e=$3 prop=$4 tests=$5
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
cp "$f" "$tmp"
sed -i "$e" "$tmp"
if cmp -s "$f" "$tmp"; then
	echo "mk.sh $n: the expression changes nothing in $f" >&2
	exit 1
fi
{
	echo "# property: $prop"
	echo "# tests: $tests"
	diff -u --label "a/$f" --label "b/$f" "$f" "$tmp" || true
} > "tests/mutants/$n.patch"
echo "tests/mutants/$n.patch"
