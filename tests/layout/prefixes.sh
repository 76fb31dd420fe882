#!/bin/sh
# SPDX-License-Identifier: MIT
# Every extern a static library defines carries the nicsim_ prefix (docs/architecture.md,
# "Conventions"), so that two libraries linked into one program cannot collide on a name.
# Usage: prefixes.sh LIB.a...   Exit 0: every defined global is prefixed; 1: the others, listed.
set -u
[ $# -gt 0 ] || { echo "usage: prefixes.sh LIB.a..." >&2; exit 2; }
bad=0
for lib in "$@"; do
    syms=$(nm -g --defined-only "$lib" 2>/dev/null | awk '$2 ~ /^[TDBRCGS]$/ {print $3}' |
           grep -v '^nicsim_' | sort -u)
    for s in $syms; do
        echo "$(basename "$lib"): $s has no nicsim_ prefix"
        bad=$((bad + 1))
    done
done
if [ "$bad" -ne 0 ]; then
    echo "prefixes.sh: $bad unprefixed extern(s)"
    exit 1
fi
echo "prefixes.sh: every extern of $# libraries carries the nicsim_ prefix"
