#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs layers.sh on a fixture tree that breaks the layering and passes only if the checker fails
# (exit 1) and names every expected violation. Usage: expect_fail.sh CHECKER FIXTURE EXPECTED...
set -u
checker=$1 fixture=$2
shift 2
out=$("$checker" "$fixture")
rc=$?
echo "$out"
[ "$rc" -eq 1 ] || { echo "expect_fail.sh: $checker exited $rc on $fixture, expected 1"; exit 1; }
for want in "$@"; do
    printf '%s\n' "$out" | grep -qF -- "$want" ||
        { echo "expect_fail.sh: no report containing: $want"; exit 1; }
done
if printf '%s\n' "$out" | grep -q '^driver/kern/ok.c'; then
    echo "expect_fail.sh: a downward include was reported"; exit 1
fi
echo "expect_fail.sh: every expected violation reported"
