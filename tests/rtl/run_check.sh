#!/bin/sh
# nicsim run --model rtl against the C model (ctest rtl.run_*): usage
#   run_check.sh NICSIM EXAMPLES_DIR EXAMPLES_SOURCE_DIR WORKDIR MODE [EXAMPLE]
# MODE example: EXAMPLE's trace on both models must give the same report (--json: verdicts,
#   bytes, per-packet cycles and stalls), the same maps afterwards (--dump-maps), the same
#   output trace and events, and the same instruction trace of a few packets (--trace-packet).
# MODE cores: the same with 1 and 3 cores and another prandom seed (every core's state on RTL).
set -u
nicsim=$1 objs=$2 srcs=$3 work=$4 mode=$5 name=${6:-firewall}
mkdir -p "$work" || exit 1
fail=0
extra() {
    case $1 in parser) echo "--prog xdp_parser" ;; *) echo "" ;; esac
}
# run_both NAME TAG [args]: both models, every output compared
run_both() {
    n=$1 tag=$2
    shift 2
    for m in c rtl; do
        d=$work/$n.$tag.$m
        rm -rf "$d" && mkdir -p "$d" || exit 1
        # shellcheck disable=SC2046
        "$nicsim" run "$objs/$n.bpf.o" --pcap "$srcs/traces/$n.pcap" --maps-dir "$srcs/$n.maps" \
            $(extra "$n") --json "$d/report.json" --dump-maps "$d/maps.json" \
            --out-pcap "$d/out.pcapng" --events "$d/events.jsonl" --quiet --no-progress \
            --model $m "$@" >"$d/stdout" 2>"$d/stderr"
        echo $? >"$d/status"
    done
    for f in status report.json maps.json out.pcapng events.jsonl stdout; do
        if ! cmp -s "$work/$n.$tag.c/$f" "$work/$n.$tag.rtl/$f"; then
            echo "FAIL: $n ($tag): $f differs between --model c and --model rtl:"
            diff "$work/$n.$tag.c/$f" "$work/$n.$tag.rtl/$f" | head -20
            cat "$work/$n.$tag.rtl/stderr"
            fail=1
        fi
    done
    if [ "$(cat "$work/$n.$tag.c/status")" != 0 ]; then
        echo "FAIL: $n ($tag): the C model's run failed:"
        cat "$work/$n.$tag.c/stderr"
        fail=1
    fi
    grep -q '"packets"' "$work/$n.$tag.rtl/report.json" 2>/dev/null || {
        echo "FAIL: $n ($tag): no report from the RTL run"
        fail=1
    }
}
case $mode in
example)
    run_both "$name" default
    for p in 0 3 8; do
        run_both "$name" trace$p --trace-packet $p
        grep -q "^ *[0-9]" "$work/$name.trace$p.rtl/stdout" || {
            echo "FAIL: $name: --trace-packet $p printed no instruction"
            fail=1
        }
    done
    ;;
cores)
    run_both "$name" cores1 --cores 1 --seed 7
    run_both "$name" cores3 --cores 3 --seed 11 --rate 40
    ;;
wave)
    # --wave-packets 3-4: the waveform holds those two packets' cycles only (2 samples a cycle,
    # a few set-up cycles each), the whole run's waveform all of them, the report unchanged
    d=$work/$name.wave
    rm -rf "$d" && mkdir -p "$d" || exit 1
    common="$objs/$name.bpf.o --pcap $srcs/traces/$name.pcap --maps-dir $srcs/$name.maps --quiet --no-progress --model rtl"
    # shellcheck disable=SC2086
    "$nicsim" run $common --json "$d/plain.json" || fail=1
    # shellcheck disable=SC2086
    "$nicsim" run $common --json "$d/win.json" --wave "$d/win.fst" --wave-packets 3-4 || fail=1
    # shellcheck disable=SC2086
    "$nicsim" run $common --json "$d/all.json" --wave "$d/all.fst" || fail=1
    cmp -s "$d/plain.json" "$d/win.json" && cmp -s "$d/plain.json" "$d/all.json" || {
        echo "FAIL: recording a waveform changed the report"
        fail=1
    }
    fst2vcd "$d/win.fst" >"$d/win.vcd" && fst2vcd "$d/all.fst" >"$d/all.vcd" || fail=1
    python3 - "$d" <<'PY' || fail=1
import json, sys
d = sys.argv[1]
pk = json.load(open(d + "/plain.json"))["packets"]
want = sum(p["cycles"] for p in pk if p["index"] in (3, 4))
total = sum(p.get("cycles", 0) for p in pk)
def stamps(f):
    return [int(l[1:]) for l in open(f) if l.startswith("#") and l[1:].strip().isdigit()]
w, a = stamps(d + "/win.vcd"), stamps(d + "/all.vcd")
print(f"window: {len(w)} samples for {want} cycles of packets 3-4; whole run: {len(a)} for {total}")
ok = 2 * want <= len(w) <= 2 * want + 2 * 2 * 16 and len(a) >= 2 * total and w[0] > 0
sys.exit(0 if ok else 1)
PY
    ;;
lockstep)
    # --lockstep on the example: agreement on every run, and the report is the C model's
    d=$work/$name.lockstep
    rm -rf "$d" && mkdir -p "$d" || exit 1
    # shellcheck disable=SC2046
    "$nicsim" run "$objs/$name.bpf.o" --pcap "$srcs/traces/$name.pcap" --maps-dir "$srcs/$name.maps" \
        $(extra "$name") --json "$d/c.json" --quiet --no-progress --model c || fail=1
    # shellcheck disable=SC2046
    "$nicsim" run "$objs/$name.bpf.o" --pcap "$srcs/traces/$name.pcap" --maps-dir "$srcs/$name.maps" \
        $(extra "$name") --json "$d/ls.json" --quiet --no-progress --lockstep >"$d/out" 2>&1
    st=$?
    n=$(grep -o '"index"' "$d/c.json" | wc -l)
    if [ $st != 0 ] || ! grep -q "lockstep: C model and RTL agree on all $n runs" "$d/out"; then
        echo "FAIL: $name: --lockstep (status $st, $n packets):"
        cat "$d/out"
        fail=1
    fi
    cmp -s "$d/c.json" "$d/ls.json" || {
        echo "FAIL: $name: the --lockstep report is not the C model's"
        fail=1
    }
    ;;
diverge)
    # an injected divergence (the harness's test knobs) ends the run with status 3, the run,
    # the instruction, both records and the cycle window, and no half-written report
    d=$work/$name.diverge
    rm -rf "$d" && mkdir -p "$d" || exit 1
    for knob in NICSIM_RTL_TEST_CORRUPT_RETIRE=9 NICSIM_RTL_TEST_CORRUPT_MEM=4090; do
        # shellcheck disable=SC2046
        env "$knob" "$nicsim" run "$objs/$name.bpf.o" --pcap "$srcs/traces/$name.pcap" \
            --maps-dir "$srcs/$name.maps" $(extra "$name") --json "$d/r.json" --quiet \
            --no-progress --lockstep >"$d/out" 2>&1
        st=$?
        case $knob in
        *RETIRE*) want="DIVERGENCE in run #0 .* at retired instruction #9: the dst register value differs" ;;
        *) want="DIVERGENCE in run #0 .*: the memory after the run: byte 0x100000ffa is 0x00 on the C model, 0x01 on the RTL differs" ;;
        esac
        if [ $st != 3 ] || ! grep -q "$want" "$d/out"; then
            echo "FAIL: $knob: status $st (want 3), want /$want/ in:"
            cat "$d/out"
            fail=1
        fi
        if [ -e "$d/r.json" ] || ls -a "$d" | grep -q nicsim-; then
            echo "FAIL: $knob: a report was written or its temporary file left behind"
            fail=1
        fi
        case $knob in *RETIRE*)
            grep -q "^  C .*pc 9 " "$d/out" && grep -q "^  RTL .*pc 9 " "$d/out" &&
                grep -q "cycle window to open in a waveform" "$d/out" || {
                echo "FAIL: $knob: the report lacks the records or the cycle window"
                fail=1
            } ;;
        esac
    done
    ;;
*)
    echo "unknown mode $mode"
    exit 2
    ;;
esac
[ $fail = 0 ] && echo "ok: $name ($mode)"
exit $fail
