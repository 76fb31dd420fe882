# libFuzzer target: arbitrary bytes as an XDP program through the kernel emulation's verifier, the
# NIC driver's offload callbacks and translator and the firmware's image loader, on the whole
# offload stack (kernel + emulated NIC + driver). The kernel emulation's, the driver's and the
# firmware's sources are compiled into the target so that libFuzzer sees their coverage.
# Seeds: realistic XDP programs written by the same source built as a generator
# (NICSIM_FUZZ_SEEDGEN), which also checks that each seed loads.
if(NICSIM_FUZZ)
  set(_vf_src ${CMAKE_CURRENT_LIST_DIR}/verifier_fuzz.c)
  set(_vf_dirs)
  foreach(_lib nicsim_kern nicsim_drv nicsim_firmware)
    get_target_property(_s ${_lib} SOURCES)
    get_target_property(_d ${_lib} SOURCE_DIR)
    list(TRANSFORM _s PREPEND ${_d}/)
    list(APPEND _vf_src ${_s})
    list(APPEND _vf_dirs ${_d})
  endforeach()
  add_executable(verifier_fuzz ${_vf_src})
  target_include_directories(verifier_fuzz PRIVATE ${_vf_dirs})
  target_compile_options(verifier_fuzz PRIVATE -fsanitize=fuzzer,address,undefined
                         -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(verifier_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(verifier_fuzz PRIVATE nicsim_drv nicsim_nicdev)

  add_executable(verifier_fuzz_seedgen ${CMAKE_CURRENT_LIST_DIR}/verifier_fuzz.c)
  target_compile_definitions(verifier_fuzz_seedgen PRIVATE NICSIM_FUZZ_SEEDGEN)
  target_link_libraries(verifier_fuzz_seedgen PRIVATE nicsim_drv nicsim_nicdev)
  set(_vf_seeds ${CMAKE_CURRENT_BINARY_DIR}/verifier_seeds)
  add_custom_command(
    OUTPUT ${_vf_seeds}/.stamp
    COMMAND ${CMAKE_COMMAND} -E make_directory ${_vf_seeds}
    COMMAND verifier_fuzz_seedgen ${_vf_seeds}
    COMMAND ${CMAKE_COMMAND} -E touch ${_vf_seeds}/.stamp
    DEPENDS verifier_fuzz_seedgen
    COMMENT "Seeding the verifier fuzzer's corpus"
    VERBATIM)
  add_custom_target(verifier_fuzz_seeds DEPENDS ${_vf_seeds}/.stamp)
  add_dependencies(verifier_fuzz verifier_fuzz_seeds)
  file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/verifier_corpus)
  # -timeout: an input takes at most ~0.3 s in an optimised build (two loads: the verifier's
  # instruction and state-work limits), 10-20 times that with ASan and fuzzer instrumentation
  add_test(NAME fuzz.verifier
           COMMAND verifier_fuzz -max_total_time=${NICSIM_FUZZ_SECONDS} -seed=${NICSIM_FUZZ_SEED} -max_len=16384
                   -timeout=20 -rss_limit_mb=2048 ${CMAKE_CURRENT_BINARY_DIR}/verifier_corpus
                   ${_vf_seeds})
  set_tests_properties(fuzz.verifier PROPERTIES LABELS fuzz TIMEOUT 0)
endif()
