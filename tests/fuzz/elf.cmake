# libFuzzer target: arbitrary bytes as a BPF ELF object into the loader (host/elf). The loader's
# sources are compiled into the target so that libFuzzer sees their coverage; libelf and libbpf
# are the system's (uninstrumented). Seeds: the test objects of tests/elf (elf.cmake there).
if(NICSIM_FUZZ)
  nicsim_fuzz_target(elf HARNESS ${CMAKE_CURRENT_LIST_DIR}/elf_fuzz.c INSTRUMENT nicsim_obj
                     MAX_LEN 65536
                     SEED_COMMAND ${CMAKE_COMMAND} -E copy ${NICSIM_ELF_TEST_OBJECTS}
                     SEED_DEPENDS ${NICSIM_ELF_TEST_OBJECTS})
endif()
