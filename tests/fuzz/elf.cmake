# libFuzzer target: arbitrary bytes as a BPF ELF object into the loader (host/elf). The loader's
# sources are compiled into the target so that libFuzzer sees their coverage; libelf and libbpf
# are the system's (uninstrumented). Seeds: the test objects of tests/elf (elf.cmake there).
if(NICSIM_FUZZ)
  get_target_property(_elf_fz_src nicsim_obj SOURCES)
  get_target_property(_elf_fz_dir nicsim_obj SOURCE_DIR)
  get_target_property(_elf_fz_libs nicsim_obj LINK_LIBRARIES)
  list(TRANSFORM _elf_fz_src PREPEND ${_elf_fz_dir}/)
  add_executable(elf_fuzz ${CMAKE_CURRENT_LIST_DIR}/elf_fuzz.c ${_elf_fz_src})
  target_include_directories(elf_fuzz PRIVATE ${_elf_fz_dir})
  target_compile_options(elf_fuzz PRIVATE -fsanitize=fuzzer,address,undefined
                         -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(elf_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(elf_fuzz PRIVATE ${_elf_fz_libs})
  set(_elf_seeds ${CMAKE_CURRENT_BINARY_DIR}/elf_seeds)
  add_custom_command(
    OUTPUT ${_elf_seeds}/.stamp
    COMMAND ${CMAKE_COMMAND} -E make_directory ${_elf_seeds}
    COMMAND ${CMAKE_COMMAND} -E copy ${NICSIM_ELF_TEST_OBJECTS} ${_elf_seeds}
    COMMAND ${CMAKE_COMMAND} -E touch ${_elf_seeds}/.stamp
    DEPENDS ${NICSIM_ELF_TEST_OBJECTS}
    COMMENT "Seeding the ELF fuzzer's corpus"
    VERBATIM)
  add_custom_target(elf_fuzz_seeds DEPENDS ${_elf_seeds}/.stamp)
  add_dependencies(elf_fuzz elf_fuzz_seeds)
  file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/elf_corpus)
  add_test(NAME fuzz.elf
           COMMAND elf_fuzz -max_total_time=${NICSIM_FUZZ_SECONDS} -seed=${NICSIM_FUZZ_SEED} -max_len=65536
                   -rss_limit_mb=2048 ${CMAKE_CURRENT_BINARY_DIR}/elf_corpus ${_elf_seeds})
  set_tests_properties(fuzz.elf PROPERTIES LABELS fuzz TIMEOUT 0)
endif()
