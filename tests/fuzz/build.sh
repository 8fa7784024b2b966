#!/bin/bash
# Build the libFuzzer targets with clang (ASan + UBSan) and give each a
# short smoke run from its seed corpus. Longer runs: run the binary in
# tests/fuzz/bin/ by hand with -max_total_time=N.
set -euo pipefail
srcdir=$1 cflags=$2 libs=$3
SECS=${FUZZ_SECONDS:-10}
command -v clang >/dev/null || { echo "fuzz: clang is not installed (apt-get install clang)"; exit 77; }
mkdir -p tests/fuzz/bin
srcs=("$srcdir"/common/*.c "$srcdir"/submit/*.c "$srcdir"/keyfetch/*.c "$srcdir"/policy/*.c)
lib=()
for s in "${srcs[@]}"; do
	# main.c: the programs; netmod.c: the programs' stubs for the
	# network module, whose real code is linked here instead
	case $(basename "$s") in main.c | netmod.c) ;; *) lib+=("$s") ;; esac
done
# -Werror is dropped: clang warns about things gcc does not, and this is a
# test build
cflags=${cflags//-Werror/}
for t in intake addr conf keyblock sealed; do
	# shellcheck disable=SC2086
	clang -g -O1 -fsanitize=fuzzer,address,undefined $cflags \
		-o "tests/fuzz/bin/fuzz_$t" "$srcdir/tests/fuzz/fuzz_$t.c" "${lib[@]}" $libs
	mkdir -p "tests/fuzz/bin/corpus_$t"
	cp -n "$srcdir"/tests/fuzz/seeds/"$t"/* "tests/fuzz/bin/corpus_$t/" 2>/dev/null || true
	"tests/fuzz/bin/fuzz_$t" -max_total_time="$SECS" -max_len=65536 \
		"tests/fuzz/bin/corpus_$t" 2>&1 | tail -n 2
done
