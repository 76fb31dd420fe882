#!/bin/sh
# SPDX-License-Identifier: MIT
# Layer check (docs/architecture.md, "Which layer may include which"): maps every source file under
# the layered directories and every include/nicsim header to its layer, then checks each
# #include "nicsim/..." and each target_link_libraries(nicsim_...) against the allowed directions.
# Usage: layers.sh [ROOT]   (ROOT: the source tree, default: this script's repository)
# Exit 0: no violation; 1: violations (each printed as file: what crosses which way); 2: usage.
set -u
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
[ -d "$root" ] || { echo "layers.sh: $root: not a directory" >&2; exit 2; }
cd "$root" || exit 2

# The layers, bottom up. A layer may use itself and the layers listed for it; nothing else.
allowed() { # $1 from-layer, $2 to-layer -> 0 if allowed
    case "$1:$2" in
    util:util) return 0 ;;
    isa:util | isa:isa) return 0 ;;
    wire:util | wire:isa | wire:wire) return 0 ;;
    maps:util | maps:maps) return 0 ;;
    sim:util | sim:isa | sim:wire | sim:sim) return 0 ;;
    firmware:util | firmware:isa | firmware:wire | firmware:maps | firmware:sim) return 0 ;;
    firmware:firmware) return 0 ;;
    driver:util | driver:isa | driver:wire | driver:maps | driver:sim | driver:driver) return 0 ;;
    platform:host) return 1 ;;
    platform:*) return 0 ;;
    host:*) return 0 ;;
    esac
    return 1
}

# Layer of a source path (relative to ROOT); empty: not layered (tests, examples, scripts).
src_layer() {
    case "$1" in
    sim/util/*) echo util ;;
    sim/isa/*) echo isa ;;
    wire/*) echo wire ;;
    maps/*) echo maps ;;
    sim/*) echo sim ;;
    firmware/*) echo firmware ;;
    driver/*) echo driver ;;
    platform/*) echo platform ;;
    host/*) echo host ;;
    include/nicsim/*) hdr_layer "${1#include/}" ;;
    *) echo "" ;;
    esac
}

# Layer of an include name "nicsim/X.h"; "?" when the header is not mapped (a new header must be
# given its layer here).
hdr_layer() {
    case "$1" in
    nicsim/util.h | nicsim/maptypes.h) echo util ;;
    nicsim/isa.h) echo isa ;;
    nicsim/wire/*.h | nicsim/nic_image.h) echo wire ;;
    nicsim/core.h | nicsim/xdp.h | nicsim/datapath.h | nicsim/pcie.h | nicsim/printk.h) echo sim ;;
    nicsim/fw_maps.h) echo maps ;;
    nicsim/fw_hal.h | nicsim/fw/*.h) echo firmware ;;
    nicsim/kern.h | nicsim/drv.h | nicsim/ctrl.h | nicsim/kern/*.h) echo driver ;;
    nicsim/nicdev.h | nicsim/system.h) echo platform ;;
    nicsim/obj.h | nicsim/kref.h | nicsim/mapjson.h | nicsim/host/*.h) echo host ;;
    *) echo "?" ;;
    esac
}

bad=0
report() { echo "$*"; bad=$((bad + 1)); }

# 1. Includes.
files=$(find sim wire maps firmware driver platform host include/nicsim -type f \
             \( -name '*.c' -o -name '*.h' -o -name '*.cc' -o -name '*.cpp' \) 2>/dev/null | sort)
for f in $files; do
    from=$(src_layer "$f")
    [ -n "$from" ] || continue
    if [ "$from" = "?" ]; then
        report "$f: header has no layer (add it to hdr_layer in tests/layout/layers.sh)"
        continue
    fi
    grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]nicsim/' "$f" |
        sed 's/^\([0-9]*\):[^"<]*["<]\(nicsim\/[^">]*\)[">].*/\1 \2/' >"${TMPDIR:-/tmp}/layers.$$"
    while read -r line inc; do
        to=$(hdr_layer "$inc")
        if [ "$to" = "?" ]; then
            report "$f:$line: includes $inc, which has no layer"
        elif ! allowed "$from" "$to"; then
            report "$f:$line: $from layer includes $inc of the $to layer"
        fi
    done <"${TMPDIR:-/tmp}/layers.$$"
done
rm -f "${TMPDIR:-/tmp}/layers.$$"

# 2. Links: every add_library under a layered directory gets that directory's layer; every
# nicsim_* library a layered target links must be of an allowed layer.
lists=$(find sim wire maps firmware driver platform host -name CMakeLists.txt 2>/dev/null | sort)
targets=""
for l in $lists; do
    layer=$(src_layer "$l")
    for t in $(tr '\n' ' ' <"$l" | grep -o 'add_library([[:space:]]*[A-Za-z0-9_]*' |
               sed 's/add_library([[:space:]]*//'); do
        targets="$targets $t=$layer"
    done
done
tgt_layer() {
    for p in $targets; do
        [ "${p%%=*}" = "$1" ] && { echo "${p#*=}"; return; }
    done
    echo "?"
}
for l in $lists; do
    tr '\n' ' ' <"$l" | grep -o 'target_link_libraries([^)]*)' |
        sed 's/target_link_libraries(//; s/)$//' | while read -r self rest; do
        from=$(tgt_layer "$self")
        [ "$from" = "?" ] && from=$(src_layer "$l")
        for dep in $rest; do
            case "$dep" in nicsim_*) ;; *) continue ;; esac
            to=$(tgt_layer "$dep")
            if [ "$to" = "?" ]; then
                echo "$l: $self links $dep, which no layered directory defines"
            elif ! allowed "$from" "$to"; then
                echo "$l: $self ($from layer) links $dep of the $to layer"
            fi
        done
    done
done >"${TMPDIR:-/tmp}/layers-links.$$"
if [ -s "${TMPDIR:-/tmp}/layers-links.$$" ]; then
    cat "${TMPDIR:-/tmp}/layers-links.$$"
    bad=$((bad + $(wc -l <"${TMPDIR:-/tmp}/layers-links.$$")))
fi
rm -f "${TMPDIR:-/tmp}/layers-links.$$"

if [ "$bad" -ne 0 ]; then
    echo "layers.sh: $bad layer violation(s) in $root (allowed directions: docs/architecture.md)"
    exit 1
fi
echo "layers.sh: $root: every include and link goes down or sideways within its layer"
exit 0
