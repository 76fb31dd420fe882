# nicsim run, end to end: every example offloaded and replayed with the kernel comparison (zero
# mismatches), expectations of the examples, real-world XDP objects from Debian's xdp-tools, and
# every bad input the command line must explain.
if(NOT TARGET PkgConfig::JANSSON)
  pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)
endif()
nicsim_gtest(run_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/run_test.cc
             LIBS PkgConfig::JANSSON nicsim_kref LABELS run kernel)
add_dependencies(run_test nicsim nicsim_examples)
target_compile_definitions(run_test PRIVATE NICSIM_CLI="$<TARGET_FILE:nicsim>"
                           NICSIM_EXAMPLES_DIR="${NICSIM_EXAMPLES_DIR}"
                           NICSIM_EXAMPLES_SOURCE_DIR="${NICSIM_EXAMPLES_SOURCE_DIR}")

# Programs the offload path must refuse with a precise reason.
set(_run_objs)
foreach(obj fib oob spin)
  set(_out ${CMAKE_CURRENT_BINARY_DIR}/run_${obj}.bpf.o)
  add_custom_command(
    OUTPUT ${_out}
    COMMAND ${NICSIM_BPF_CLANG} -O2 -g -target bpf -I${NICSIM_BPF_INCLUDE}
            -c ${CMAKE_CURRENT_LIST_DIR}/progs/${obj}.bpf.c -o ${_out}
    DEPENDS ${CMAKE_CURRENT_LIST_DIR}/progs/${obj}.bpf.c
    COMMENT "Compiling tests/run/progs/${obj}.bpf.c"
    VERBATIM)
  list(APPEND _run_objs ${_out})
endforeach()
add_custom_target(run_test_objects DEPENDS ${_run_objs})
add_dependencies(run_test run_test_objects)
target_compile_definitions(run_test PRIVATE RUN_TEST_OBJ_DIR="${CMAKE_CURRENT_BINARY_DIR}")

# Kernel-differential soak over mutated traces: 2000 packets per example in the suite, 20000 with
# NICSIM_SOAK. Exit 77 = skipped (no bpf()).
find_program(NICSIM_PYTHON3 NAMES python3 REQUIRED)
if(NICSIM_SOAK)
  set(_diff_n 20000)
else()
  set(_diff_n 2000)
endif()
add_test(NAME run.differential_mutated
         COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/differential.sh $<TARGET_FILE:nicsim>
                 ${NICSIM_EXAMPLES_DIR} ${NICSIM_EXAMPLES_SOURCE_DIR} ${_diff_n} 1)
set_tests_properties(run.differential_mutated PROPERTIES LABELS "run;kernel" SKIP_RETURN_CODE 77
                     TIMEOUT 1800)

# The README's main command, at the path the README and scripts/bootstrap.sh give.
add_test(NAME run.demo_main_command COMMAND ${CMAKE_BINARY_DIR}/host/nicsim demo)
set_tests_properties(run.demo_main_command PROPERTIES LABELS run
                     PASS_REGULAR_EXPRESSION "demo: every example ran")
add_test(NAME run.plugin_at_readme_path COMMAND sh -c
         "printf 'b7  00  00  00  07  00  00  00  95  00  00  00  00  00  00  00\\n' | ${CMAKE_BINARY_DIR}/host/nicsim-plugin")
set_tests_properties(run.plugin_at_readme_path PROPERTIES LABELS run PASS_REGULAR_EXPRESSION "^(0x)?7\n?$")

# may_goto end to end (issue 8): offloaded, replayed and compared with the host kernel packet for
# packet (BPF_PROG_TEST_RUN). The loop ends by its own condition long before either side's
# may_goto limit.
set(_may_goto_obj ${CMAKE_CURRENT_BINARY_DIR}/run_may_goto.bpf.o)
add_custom_command(
  OUTPUT ${_may_goto_obj}
  COMMAND ${NICSIM_BPF_CLANG} -target bpf -c ${CMAKE_CURRENT_LIST_DIR}/progs/may_goto.s
          -o ${_may_goto_obj}
  DEPENDS ${CMAKE_CURRENT_LIST_DIR}/progs/may_goto.s
  COMMENT "Assembling tests/run/progs/may_goto.s"
  VERBATIM)
add_custom_target(run_may_goto_object ALL DEPENDS ${_may_goto_obj})
add_dependencies(run_test run_may_goto_object) # built with run_test (the sanitizer tree builds only it)
add_test(NAME run.may_goto_agrees_with_the_kernel
         COMMAND ${CMAKE_BINARY_DIR}/host/nicsim run ${_may_goto_obj} --pcap
                 ${NICSIM_SHARED_DIR}/pcaps/tcpreplay-test.pcap --compare-kernel --no-progress)
set_tests_properties(run.may_goto_agrees_with_the_kernel PROPERTIES LABELS "run;kernel"
                     PASS_REGULAR_EXPRESSION "verdicts: XDP_DROP 157 XDP_PASS 22\n.*; 0 mismatches")

# Programs the kernel accepts that the verifier once refused (issue 8), offloaded, replayed and
# compared with the host kernel packet for packet and map for map: fields of struct bpf_map read
# through a map pointer (the driver materialises them on the NIC); a subprogram returning void.
foreach(obj map_field void_subprog)
  set(_obj ${CMAKE_CURRENT_BINARY_DIR}/run_${obj}.bpf.o)
  add_custom_command(
    OUTPUT ${_obj}
    COMMAND ${NICSIM_BPF_CLANG} -O2 -g -target bpf -I${NICSIM_BPF_INCLUDE}
            -c ${CMAKE_CURRENT_LIST_DIR}/progs/${obj}.bpf.c -o ${_obj}
    DEPENDS ${CMAKE_CURRENT_LIST_DIR}/progs/${obj}.bpf.c
    COMMENT "Compiling tests/run/progs/${obj}.bpf.c"
    VERBATIM)
  add_custom_target(run_${obj}_object ALL DEPENDS ${_obj})
  add_dependencies(run_test run_${obj}_object)
  add_test(NAME run.${obj}_agrees_with_the_kernel
           COMMAND ${CMAKE_BINARY_DIR}/host/nicsim run ${_obj} --pcap
                   ${NICSIM_SHARED_DIR}/pcaps/tcpreplay-test.pcap --compare-kernel --no-progress)
  set_tests_properties(run.${obj}_agrees_with_the_kernel PROPERTIES LABELS "run;kernel"
                       PASS_REGULAR_EXPRESSION "XDP_PASS [0-9]+.*; 0 mismatches\n.*maps: final contents equal")
endforeach()
