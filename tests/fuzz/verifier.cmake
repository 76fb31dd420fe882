# libFuzzer target: arbitrary bytes as an XDP program through the kernel emulation's verifier, the
# NIC driver's offload callbacks and translator and the firmware's image loader, on the whole
# offload stack (kernel + emulated NIC + driver). The kernel emulation's, the driver's and the
# firmware's sources are compiled into the target so that libFuzzer sees their coverage.
# Seeds: realistic XDP programs written by the same source built as a generator
# (NICSIM_FUZZ_SEEDGEN), which also checks that each seed loads.
if(NICSIM_FUZZ)
  add_executable(verifier_fuzz_seedgen ${CMAKE_CURRENT_LIST_DIR}/verifier_fuzz.c)
  target_compile_definitions(verifier_fuzz_seedgen PRIVATE NICSIM_FUZZ_SEEDGEN)
  target_link_libraries(verifier_fuzz_seedgen PRIVATE nicsim_drv nicsim_nicdev)
  # -timeout: an input takes at most ~0.3 s in an optimised build (two loads: the verifier's
  # instruction and state-work limits), 10-20 times that with ASan and fuzzer instrumentation.
  nicsim_fuzz_target(verifier HARNESS ${CMAKE_CURRENT_LIST_DIR}/verifier_fuzz.c
                     INSTRUMENT nicsim_kern nicsim_drv nicsim_firmware LIBS nicsim_nicdev
                     MAX_LEN 16384 TIMEOUT 20
                     SEED_COMMAND verifier_fuzz_seedgen SEED_DEPENDS verifier_fuzz_seedgen)
endif()
