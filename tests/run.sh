#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs each test program given as an argument, prints its status, and ends with the
# line "N passed, N failed".  Exit status 0 only if every program passed.
pass=0
fail=0
failed=""
for t in "$@"; do
	name=${t#"${B:-build}"/}
	start=$(date +%s)
	# PCPU_TEST_RUNNER: an emulator such as qemu-aarch64 (make check-cross)
	if ${PCPU_TEST_RUNNER:+"$PCPU_TEST_RUNNER"} "$t" >"$t.log" 2>&1; then
		pass=$((pass + 1))
		echo "PASS $name ($(( $(date +%s) - start ))s)"
	else
		fail=$((fail + 1))
		failed="$failed $name"
		echo "FAIL $name"
		sed 's/^/    /' "$t.log" | tail -n 40
	fi
done
echo
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
