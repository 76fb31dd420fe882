#!/bin/sh
# nicsim set-up: install what is missing (Debian packages), build, then run the main job or the
# full test suite.
#
#   scripts/bootstrap.sh demo     install + build + `nicsim demo` (the bundled example set)
#   scripts/bootstrap.sh test     install + build + every test (ctest)
#   scripts/bootstrap.sh deps     install only
#
# Environment: BUILD_DIR (default: build), FUZZ_BUILD_DIR (default: build-fuzz), JOBS (default:
# nproc), NICSIM_FUZZ_SECONDS (per fuzz target, default 30), NICSIM_SOAK=1 for long soak and fuzz
# runs (600 s per fuzz target), NICSIM_SANITIZE=1 builds the main tree with ASan/UBSan.
set -eu

mode=${1:-demo}
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build}
jobs=${JOBS:-$(nproc)}

# Debian packages the build, the examples and the tests need.
PKGS="build-essential cmake pkg-config clang llvm lld libclang-rt-14-dev libelf-dev zlib1g-dev
libbpf-dev libpcap-dev libjansson-dev libgtest-dev googletest gnuplot-nox python3-scapy bpftool
linux-libc-dev xdp-tools libxdp1 verilator yosys iverilog gtkwave jq"

need_install() {
    missing=""
    for p in $PKGS; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing="$missing $p"
    done
    [ -n "$missing" ]
}

install_deps() {
    if ! need_install; then
        return 0
    fi
    echo "nicsim: installing Debian packages:$missing"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -q --no-install-recommends $missing
}

build_tree() {
    sanitize=OFF
    [ "${NICSIM_SANITIZE:-0}" = 1 ] && sanitize=ON
    soak=OFF
    [ "${NICSIM_SOAK:-0}" = 1 ] && soak=ON
    cmake -S "$top" -B "$build" -DNICSIM_SANITIZE=$sanitize -DNICSIM_SOAK=$soak >/dev/null
    cmake --build "$build" -j "$jobs"
}

# The fuzzers (libFuzzer needs clang): a second tree with ASan/UBSan, the fuzz targets each run
# for NICSIM_FUZZ_SECONDS (30 by default) from seed 1; NICSIM_SOAK=1: 600 s, random seeds. The
# same tree builds nicsim, nicsim-plugin and their tests with ASan/UBSan and runs the command
# line's tests once more against them (every bad input of tests/run, the map JSON reader; leaks
# fail them too): a few minutes. The xdp-tools objects and the mutated-trace soak stay in the main
# tree.
fuzz_tree() {
    fuzz=${FUZZ_BUILD_DIR:-$top/build-fuzz}
    secs=${NICSIM_FUZZ_SECONDS:-30}
    seed=1 # repeatable in the suite; soak runs explore with a random seed
    if [ "${NICSIM_SOAK:-0}" = 1 ]; then
        secs=${NICSIM_FUZZ_SECONDS:-600}
        seed=0
    fi
    CC=clang CXX=clang++ cmake -S "$top" -B "$fuzz" -DNICSIM_FUZZ=ON -DNICSIM_SANITIZE=ON \
        -DNICSIM_FUZZ_SECONDS="$secs" -DNICSIM_FUZZ_SEED="$seed" >/dev/null
    cmake --build "$fuzz" -j "$jobs" --target cmsg_fuzz cmsgseq_fuzz elf_fuzz verifier_fuzz image_fuzz \
        nicsim nicsim-plugin run_test tools_test mapjson_test
    fstatus=0
    (cd "$fuzz" && ctest -L fuzz --output-on-failure -j "$jobs") || fstatus=1
    # exit status 86 for any ASan/LSan report, so that a test expecting status 1 sees it too
    (cd "$fuzz" && ASAN_OPTIONS=exitcode=86 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        ctest -L run -E 'RealWorld|differential' --output-on-failure -j "$jobs") || fstatus=1
    (cd "$fuzz" && ctest -R '^MapjsonTest[.]' --output-on-failure -j "$jobs") || fstatus=1
    return $fstatus
}

mount_bpffs() {
    # Objects that pin maps need bpffs; harmless when it is already there or not permitted.
    if [ -d /sys/fs/bpf ] && ! grep -q " /sys/fs/bpf bpf " /proc/mounts 2>/dev/null; then
        mount -t bpf bpf /sys/fs/bpf 2>/dev/null || true
    fi
}

case "$mode" in
deps)
    install_deps
    ;;
demo)
    install_deps
    build_tree
    mount_bpffs
    exec "$build/host/nicsim" demo
    ;;
test)
    install_deps
    build_tree
    mount_bpffs
    status=0
    (cd "$build" && ctest --output-on-failure -j "$jobs") || status=1
    fuzz_tree || status=1
    [ $status -eq 0 ] && echo "nicsim: every test passed" || echo "nicsim: some tests failed" >&2
    exit $status
    ;;
*)
    echo "usage: $0 demo|test|deps" >&2
    exit 2
    ;;
esac
