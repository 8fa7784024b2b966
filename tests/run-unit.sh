#!/bin/sh
# Run each cmocka unit test binary; fail if any fails. Prints one summary
# line "unit: N passed, N failed".
pass=0 fail=0
for t in "$@"; do
	if "./$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $t"; fi
done
echo "unit test programs: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
