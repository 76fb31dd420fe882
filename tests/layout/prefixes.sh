#!/bin/sh
# SPDX-License-Identifier: MIT
# Every extern a static library defines carries the nicsim_ prefix (docs/architecture.md,
# "Conventions"), so that two libraries linked into one program cannot collide on a name.
# Usage: prefixes.sh LIB.a...   Exit 0: every defined global is prefixed; 1: the others, listed.
# Names still being moved (each with who moves it): fm_* (firmware/maps) and hostmap_*
# (driver/kern/hostmap.c), the map library's; cli_* (host/opt, the option parser the command
# line's files call); run_main (host/run/replay.c).
set -u
[ $# -gt 0 ] || { echo "usage: prefixes.sh LIB.a..." >&2; exit 2; }
bad=0
for lib in "$@"; do
    syms=$(nm -g --defined-only "$lib" 2>/dev/null | awk '$2 ~ /^[TDBRCGS]$/ {print $3}' |
           grep -v '^nicsim_' | grep -v '^fm_' | grep -v '^hostmap_' | grep -v '^cli_' |
           grep -vx 'run_main' | sort -u)
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
