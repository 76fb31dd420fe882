# libFuzzer target: arbitrary bytes as control messages into the firmware's parser (fake HAL).
# The firmware's sources are compiled into the target so that libFuzzer sees their coverage.
if(NICSIM_FUZZ)
  get_target_property(_cmsg_fw_src nicsim_firmware SOURCES)
  get_target_property(_cmsg_fw_dir nicsim_firmware SOURCE_DIR)
  get_target_property(_cmsg_fw_libs nicsim_firmware LINK_LIBRARIES)
  list(TRANSFORM _cmsg_fw_src PREPEND ${_cmsg_fw_dir}/)
  add_executable(cmsg_fuzz ${CMAKE_CURRENT_LIST_DIR}/cmsg_fuzz.c ${_cmsg_fw_src})
  target_include_directories(cmsg_fuzz PRIVATE ${_cmsg_fw_dir})
  target_compile_options(cmsg_fuzz PRIVATE -fsanitize=fuzzer,address,undefined
                         -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(cmsg_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(cmsg_fuzz PRIVATE ${_cmsg_fw_libs})
  add_test(NAME fuzz.cmsg
           COMMAND cmsg_fuzz -max_total_time=${NICSIM_FUZZ_SECONDS} -seed=${NICSIM_FUZZ_SEED} -max_len=8192
                   -rss_limit_mb=2048 ${CMAKE_CURRENT_BINARY_DIR}/cmsg_corpus)
  set_tests_properties(fuzz.cmsg PROPERTIES LABELS fuzz TIMEOUT 0)
  file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/cmsg_corpus)
endif()
