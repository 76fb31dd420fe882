#!/bin/sh
# SPDX-License-Identifier: MIT
# Usage: externs_prefixed.sh LIBRARY.a: every extern the static library defines starts with
# nicsim_ (exit 0), else the unprefixed names are listed (exit 1).
set -u
[ -f "$1" ] || { echo "externs_prefixed.sh: $1: no such library" >&2; exit 2; }
out=$(nm -g --defined-only "$1" | awk 'NF == 3 && $3 !~ /^nicsim_/ { print $3 }' | sort -u)
if [ -n "$out" ]; then
    echo "$1: externs without the nicsim_ prefix:" $out
    exit 1
fi
echo "$1: every extern starts with nicsim_"
