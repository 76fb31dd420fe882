# RTL tests (only when Verilator built the core, sim/rtl): the conformance suite on the RTL,
# compared with the C model file by file (results, cycles, traces).
if(TARGET nicsim_rtl)
  nicsim_gtest(rtl_conformance_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/rtl_conformance_test.cc
               LIBS nicsim_rtl nicsim_bpfconf nicsim_conformance_data nicsim_isa LABELS "rtl;conformance")
  add_dependencies(rtl_conformance_test nicsim-plugin)
  target_compile_definitions(rtl_conformance_test PRIVATE
                             NICSIM_PLUGIN_PATH="$<TARGET_FILE:nicsim-plugin>")
endif()
# Random programs, C model against RTL in lockstep (seed printed; NICSIM_RTL_SEED and
# NICSIM_RTL_PROGRAMS reproduce and soak).
if(TARGET nicsim_rtl)
  nicsim_gtest(rtl_lockstep_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/rtl_lockstep_test.cc
               LIBS nicsim_rtl nicsim_bpfconf nicsim_isa LABELS rtl)
endif()
# The RTL sources must stay `verilator --lint-only -Wall` clean (waivers only in rtl/lint.vlt)
# and synthesize with Yosys without latches (the fast generic flow; rtl/synth/synth.sh xilinx
# makes the FPGA figures of docs/rtl-synthesis.md).
file(STRINGS ${CMAKE_SOURCE_DIR}/rtl/synth/files.f _nicsim_rtl_files)
set(_nicsim_rtl_paths)
foreach(_f ${_nicsim_rtl_files})
  list(APPEND _nicsim_rtl_paths ${CMAKE_SOURCE_DIR}/rtl/${_f})
endforeach()
find_program(NICSIM_VERILATOR_BIN verilator)
find_program(NICSIM_YOSYS_BIN yosys)
if(NICSIM_VERILATOR_BIN)
  add_test(NAME rtl.lint
           COMMAND ${NICSIM_VERILATOR_BIN} --lint-only -Wall ${CMAKE_SOURCE_DIR}/rtl/lint.vlt
                   ${_nicsim_rtl_paths} --top-module ebpf_core)
  set_tests_properties(rtl.lint PROPERTIES LABELS rtl)
else()
  message(STATUS "verilator not found: rtl.lint is not registered")
endif()
if(NICSIM_YOSYS_BIN)
  add_test(NAME rtl.synth_generic COMMAND ${CMAKE_SOURCE_DIR}/rtl/synth/synth.sh generic)
  set_tests_properties(rtl.synth_generic PROPERTIES LABELS rtl TIMEOUT 900
                       ENVIRONMENT NICSIM_SYNTH_OUT=${CMAKE_BINARY_DIR}/rtl-synth)
else()
  message(STATUS "yosys not found: rtl.synth_generic is not registered")
endif()
# --wave: the waveform of an RTL run holds every signal of waveforms/core.gtkw.
find_program(NICSIM_FST2VCD_BIN fst2vcd)
if(TARGET nicsim_rtl AND NICSIM_FST2VCD_BIN)
  add_test(NAME rtl.wave_has_the_save_file_signals
           COMMAND ${CMAKE_CURRENT_LIST_DIR}/wave_check.sh $<TARGET_FILE:nicsim-plugin>
                   ${CMAKE_SOURCE_DIR}/waveforms/core.gtkw ${CMAKE_BINARY_DIR}/rtl-wave)
  set_tests_properties(rtl.wave_has_the_save_file_signals PROPERTIES LABELS rtl)
endif()
# nicsim exec / bench --model rtl, --lockstep, --wave (host/cli/model.c).
if(TARGET nicsim_rtl)
  foreach(_mode model lockstep diverge bench)
    add_test(NAME rtl.cli_${_mode}
             COMMAND ${CMAKE_CURRENT_LIST_DIR}/cli_check.sh $<TARGET_FILE:nicsim>
                     ${NICSIM_SHARED_DIR}/conformance/tests ${CMAKE_SOURCE_DIR}/waveforms/core.gtkw
                     ${CMAKE_BINARY_DIR}/rtl-cli ${_mode})
    set_tests_properties(rtl.cli_${_mode} PROPERTIES LABELS rtl TIMEOUT 600)
  endforeach()
  if(NICSIM_FST2VCD_BIN)
    add_test(NAME rtl.cli_wave
             COMMAND ${CMAKE_CURRENT_LIST_DIR}/cli_check.sh $<TARGET_FILE:nicsim>
                     ${NICSIM_SHARED_DIR}/conformance/tests ${CMAKE_SOURCE_DIR}/waveforms/core.gtkw
                     ${CMAKE_BINARY_DIR}/rtl-cli wave)
    set_tests_properties(rtl.cli_wave PROPERTIES LABELS rtl)
  endif()
endif()
# nicsim run --model rtl: every example's trace on the RTL gives the C model's report, maps,
# output trace, events and instruction traces (host/cli/model.c, sim/rtl nicsim_rtl__run_vm).
if(TARGET nicsim_rtl)
  foreach(_ex ${NICSIM_EXAMPLES})
    add_test(NAME rtl.run_${_ex}
             COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_check.sh $<TARGET_FILE:nicsim>
                     ${NICSIM_EXAMPLES_DIR} ${NICSIM_EXAMPLES_SOURCE_DIR}
                     ${CMAKE_BINARY_DIR}/rtl-run example ${_ex})
    set_tests_properties(rtl.run_${_ex} PROPERTIES LABELS rtl TIMEOUT 600)
  endforeach()
  add_test(NAME rtl.run_cores
           COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_check.sh $<TARGET_FILE:nicsim>
                   ${NICSIM_EXAMPLES_DIR} ${NICSIM_EXAMPLES_SOURCE_DIR}
                   ${CMAKE_BINARY_DIR}/rtl-run cores l4lb)
  set_tests_properties(rtl.run_cores PROPERTIES LABELS rtl TIMEOUT 600)
endif()
# nicsim run --model rtl --wave F.fst --wave-packets 3-4: only those packets' cycles recorded.
if(TARGET nicsim_rtl AND NICSIM_FST2VCD_BIN)
  add_test(NAME rtl.run_wave_packets
           COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_check.sh $<TARGET_FILE:nicsim>
                   ${NICSIM_EXAMPLES_DIR} ${NICSIM_EXAMPLES_SOURCE_DIR}
                   ${CMAKE_BINARY_DIR}/rtl-run wave firewall)
  set_tests_properties(rtl.run_wave_packets PROPERTIES LABELS rtl TIMEOUT 600)
endif()
# nicsim run --lockstep: every example agrees instruction by instruction (report = the C
# model's); an injected divergence (NICSIM_RTL_TEST_CORRUPT_RETIRE / _MEM) ends the run (status 3).
if(TARGET nicsim_rtl)
  foreach(_ex ${NICSIM_EXAMPLES})
    add_test(NAME rtl.run_lockstep_${_ex}
             COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_check.sh $<TARGET_FILE:nicsim>
                     ${NICSIM_EXAMPLES_DIR} ${NICSIM_EXAMPLES_SOURCE_DIR}
                     ${CMAKE_BINARY_DIR}/rtl-run lockstep ${_ex})
    set_tests_properties(rtl.run_lockstep_${_ex} PROPERTIES LABELS rtl TIMEOUT 600)
  endforeach()
  add_test(NAME rtl.run_lockstep_diverge
           COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_check.sh $<TARGET_FILE:nicsim>
                   ${NICSIM_EXAMPLES_DIR} ${NICSIM_EXAMPLES_SOURCE_DIR}
                   ${CMAKE_BINARY_DIR}/rtl-run diverge l4lb)
  set_tests_properties(rtl.run_lockstep_diverge PROPERTIES LABELS rtl TIMEOUT 600)
endif()
# The XDP engine top for FPGA use (rtl/engine/, files in rtl/synth/engine.f): lint, the
# generic synthesis without latches, and a Verilator testbench against the C model
# (tests/rtl/engine_test.cc; the engine is verilated into the test executable itself).
file(STRINGS ${CMAKE_SOURCE_DIR}/rtl/synth/engine.f _nicsim_engine_files)
set(_nicsim_engine_paths)
foreach(_f ${_nicsim_engine_files})
  list(APPEND _nicsim_engine_paths ${CMAKE_SOURCE_DIR}/rtl/${_f})
endforeach()
if(NICSIM_VERILATOR_BIN)
  add_test(NAME rtl.lint_engine
           COMMAND ${NICSIM_VERILATOR_BIN} --lint-only -Wall ${CMAKE_SOURCE_DIR}/rtl/lint.vlt
                   ${_nicsim_rtl_paths} ${_nicsim_engine_paths} --top-module ebpf_engine)
  set_tests_properties(rtl.lint_engine PROPERTIES LABELS rtl)
endif()
if(NICSIM_YOSYS_BIN)
  add_test(NAME rtl.synth_engine_generic
           COMMAND ${CMAKE_SOURCE_DIR}/rtl/synth/synth.sh engine-generic)
  set_tests_properties(rtl.synth_engine_generic PROPERTIES LABELS rtl TIMEOUT 900
                       ENVIRONMENT NICSIM_SYNTH_OUT=${CMAKE_BINARY_DIR}/rtl-synth-engine)
endif()
if(TARGET nicsim_rtl)
  find_package(verilator HINTS $ENV{VERILATOR_ROOT} /usr/share/verilator QUIET)
endif()
if(TARGET nicsim_rtl AND verilator_FOUND)
  nicsim_gtest(rtl_engine_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/engine_test.cc
               LIBS nicsim_xdp nicsim_core nicsim_isa LABELS rtl)
  target_compile_options(rtl_engine_test PRIVATE -Wno-unused-variable -Wno-sign-compare)
  verilate(rtl_engine_test
    SOURCES ${CMAKE_SOURCE_DIR}/rtl/lint.vlt ${_nicsim_rtl_paths} ${_nicsim_engine_paths}
    TOP_MODULE ebpf_engine
    PREFIX Vebpf_engine
    THREADS 1
    TRACE_FST
    OPT_FAST -O2
    VERILATOR_ARGS -Wall --x-assign fast --x-initial fast)
endif()
