#!/bin/sh
# Kernel-differential soak: every example over a trace of N packets mutated from its own, with
# --compare-kernel. Fails on any verdict, byte or map mismatch; exits 77 (skipped) when the kernel
# refuses bpf(). Usage: differential.sh NICSIM EXAMPLES_OBJ_DIR EXAMPLES_SRC_DIR N SEED
set -u
nicsim=$1 objdir=$2 srcdir=$3 n=$4 seed=$5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
compared=0
for e in firewall l4lb ipip router parser; do
    extra=""
    [ "$e" = firewall ] && extra="--ignore-bytes flows:0:8"
    [ "$e" = parser ] && extra="--prog xdp_parser"
    python3 "$(dirname "$0")/mutate_trace.py" "$srcdir/traces/$e.pcap" "$tmp/$e.pcap" "$n" "$seed" ||
        exit 1
    # shellcheck disable=SC2086
    "$nicsim" run "$objdir/$e.bpf.o" --pcap "$tmp/$e.pcap" --maps-dir "$srcdir/$e.maps" \
        --compare-kernel --kernel-repeat 1 --no-progress $extra >"$tmp/$e.out" 2>&1
    rc=$?
    if grep -q "refuses bpf()" "$tmp/$e.out"; then
        echo "skipped: the kernel refuses bpf(), nothing to compare with"
        exit 77
    fi
    if [ $rc -eq 0 ] && grep -q "does not let XDP programs use a helper" "$tmp/$e.out"; then
        # This kernel cannot run the program (some 6.18 kernels offer no bpf_xdp_adjust_meta to
        # XDP): nothing to compare with, and the run said so.
        echo "$e: not compared: $(grep -o 'the running kernel.*' "$tmp/$e.out" | head -1)"
        continue
    fi
    if [ $rc -ne 0 ] || ! grep -q "0 mismatches" "$tmp/$e.out"; then
        echo "== $e: exit $rc"
        cat "$tmp/$e.out"
        status=1
    else
        echo "$e: $n mutated packets, NIC and kernel agree"
        compared=$((compared + 1))
    fi
done
if [ $status -eq 0 ] && [ $compared -eq 0 ]; then
    echo "skipped: this kernel could run none of the examples, nothing was compared"
    exit 77
fi
exit $status
