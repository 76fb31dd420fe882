#!/bin/sh
# nicsim exec / bench with --model rtl, --lockstep and --wave (host/cli/model.c).
# Usage: cli_check.sh NICSIM CONFORMANCE_TESTS_DIR SAVEFILE WORKDIR MODE
#   model      every conformance program with an asm section gives the same `nicsim exec`
#              output (r0, counts, stalls, or the trap message) with --model c and --model rtl
#   lockstep   --lockstep agrees on every one of them (never exit 3)
#   diverge    an injected divergence (the harness's test knobs) is reported: exit 3, the
#              instruction and both records; a memory byte after the run
#   wave       exec --model rtl --wave F.fst writes every signal of the gtkwave save file
#   bench      bench --model rtl prints the RTL's and the C model's cycles per second
set -eu
nicsim=$1 tests=$2 gtkw=$3 dir=$4 mode=$5
mkdir -p "$dir"
mem="2a 00 00 00 01 02 03 04 05 06 07 08 09 0a 0b 0c"
fail=0
case $mode in
model|lockstep)
    set +e # the programs that trap exit 1
    n=0
    for f in "$tests"/*.data; do
        grep -q '^-- asm' "$f" || continue
        n=$((n + 1))
        if [ "$mode" = model ]; then
            c=$("$nicsim" exec "$f" --mem "$mem" --budget 100000 --model c 2>&1)
            c="$c rc=$?"
            r=$("$nicsim" exec "$f" --mem "$mem" --budget 100000 --model rtl 2>&1)
            r="$r rc=$?"
            [ "$c" = "$r" ] || { echo "$f: C model and RTL differ:"; echo "$c"; echo "$r"; fail=1; }
        else
            out=$("$nicsim" exec "$f" --mem "$mem" --budget 100000 --lockstep 2>&1)
            rc=$?
            if [ $rc -eq 3 ] || [ $rc -eq 2 ]; then
                echo "$f: lockstep exit $rc:"; echo "$out"; fail=1
            elif [ $rc -eq 0 ] && ! echo "$out" | grep -q '^lockstep: C model and RTL agree'; then
                echo "$f: no agreement line:"; echo "$out"; fail=1
            fi
        fi
    done
    [ $n -gt 100 ] || { echo "only $n programs found in $tests"; fail=1; }
    echo "$n programs"
    ;;
diverge)
    prog="$dir/diverge.s"
    printf 'mov %%r0, 1\nmov %%r3, 0\nloop:\nadd %%r0, %%r3\nadd %%r3, 1\njlt %%r3, 5, loop\nexit\n' > "$prog"
    set +e
    out=$(NICSIM_RTL_TEST_CORRUPT_RETIRE=5 "$nicsim" exec "$prog" --lockstep 2>&1)
    rc=$?
    ok=$("$nicsim" exec "$prog" --lockstep 2>&1)
    okrc=$?
    set -e
    echo "$out"
    [ $okrc -eq 0 ] || { echo "without the knob: exit $okrc"; echo "$ok"; fail=1; }
    [ $rc -eq 3 ] || { echo "exit $rc, not 3"; fail=1; }
    echo "$out" | grep -q 'DIVERGENCE at retired instruction #5: the written register value' || fail=1
    echo "$out" | grep -q '^  C    pc 2  add %r0, %r3' || fail=1
    echo "$out" | grep -q '^  RTL  pc 2  add %r0, %r3' || fail=1
    echo "$out" | grep -q 'cycle window' || fail=1
    # the memory block after the run (the second knob flips a byte the RTL harness reads back)
    set +e
    out=$(NICSIM_RTL_TEST_CORRUPT_MEM=2 "$nicsim" exec "$prog" --mem 00000000 --lockstep 2>&1)
    rc=$?
    set -e
    echo "$out"
    [ $rc -eq 3 ] || { echo "memory: exit $rc, not 3"; fail=1; }
    echo "$out" | grep -q 'DIVERGENCE in the memory block after the run: byte 2 is 0x00 on the C model, 0x01 on the RTL' || fail=1
    ;;
wave)
    fst="$dir/exec.fst"
    rm -f "$fst"
    printf 'ldxw %%r0, [%%r1]\nmul %%r0, 3\nexit\n' > "$dir/wave.s"
    out=$("$nicsim" exec "$dir/wave.s" --mem 2a000000 --model rtl --wave "$fst")
    echo "$out" | grep -q '^r0 = 0x7e' || { echo "r0 is not 0x7e: $out"; fail=1; }
    [ -s "$fst" ] || { echo "no waveform written"; exit 1; }
    fst2vcd "$fst" 2>/dev/null | awk '/\$scope/{d++; s[d]=$3} /\$upscope/{d--}
        /\$var/{p=""; for(i=1;i<=d;i++) p=p s[i] "."; print p $5}' | sort -u > "$dir/exec.sigs"
    for s in $(grep '^ebpf_core\.' "$gtkw" | sed 's/\[.*//'); do
        grep -qx "$s" "$dir/exec.sigs" || { echo "not in the waveform: $s"; fail=1; }
    done
    ;;
bench)
    out=$("$nicsim" bench --model rtl --rtl-insns 20000)
    echo "$out"
    for p in alu-loop checksum stack-calls primes; do
        echo "$out" | grep -Eq "^$p +[0-9]+ +[0-9]+ +[0-9.]+ +[0-9.]+$" || { echo "no row for $p"; fail=1; }
    done
    echo "$out" | grep -Eq '^simulated core cycles per second: RTL [0-9.]+ million, C model [0-9.]+ million' || fail=1
    ;;
*)
    echo "unknown mode $mode"; exit 2 ;;
esac
exit $fail
