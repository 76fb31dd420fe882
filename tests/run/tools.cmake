# What people look at (issue 11): the streamed report (JSON, JSON Lines, CSV), nicsim profile,
# nicsim sweep and --report DIR, end to end through the real binary, on the bundled examples.
if(NOT TARGET PkgConfig::JANSSON)
  pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)
endif()
nicsim_gtest(tools_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/tools_test.cc
             LIBS PkgConfig::JANSSON LABELS run)
add_dependencies(tools_test nicsim nicsim_examples)
# An example without BTF line info (profile prints the disassembly only): its .BTF.ext removed
# (the BTF of its .maps stays: the object cannot load without it).
find_program(NICSIM_LLVM_OBJCOPY NAMES llvm-objcopy llvm-objcopy-14 REQUIRED)
set(_nobtf ${CMAKE_CURRENT_BINARY_DIR}/tools_firewall_nobtf.bpf.o)
add_custom_command(
  OUTPUT ${_nobtf}
  COMMAND ${NICSIM_BPF_CLANG} -O2 -g -target bpf -I${NICSIM_BPF_INCLUDE}
          -c ${CMAKE_SOURCE_DIR}/examples/firewall.bpf.c -o ${_nobtf}
  COMMAND ${NICSIM_LLVM_OBJCOPY} --remove-section=.BTF.ext ${_nobtf}
  DEPENDS ${CMAKE_SOURCE_DIR}/examples/firewall.bpf.c
  COMMENT "Compiling examples/firewall.bpf.c without BTF line info"
  VERBATIM)
# Code the verifier removes before translation (profile maps slots back through the driver).
set(_dead ${CMAKE_CURRENT_BINARY_DIR}/tools_dead_code.bpf.o)
add_custom_command(
  OUTPUT ${_dead}
  COMMAND ${NICSIM_BPF_CLANG} -O2 -g -target bpf -I${NICSIM_BPF_INCLUDE}
          -c ${CMAKE_CURRENT_LIST_DIR}/progs/dead_code.bpf.c -o ${_dead}
  DEPENDS ${CMAKE_CURRENT_LIST_DIR}/progs/dead_code.bpf.c
  COMMENT "Compiling tests/run/progs/dead_code.bpf.c"
  VERBATIM)
add_custom_target(tools_test_objects DEPENDS ${_nobtf} ${_dead})
add_dependencies(tools_test tools_test_objects)
target_compile_definitions(tools_test PRIVATE NICSIM_CLI="$<TARGET_FILE:nicsim>"
                           NICSIM_EXAMPLES_DIR="${NICSIM_EXAMPLES_DIR}"
                           NICSIM_EXAMPLES_SOURCE_DIR="${NICSIM_EXAMPLES_SOURCE_DIR}"
                           TOOLS_NOBTF_OBJ="${_nobtf}" TOOLS_DEAD_CODE_OBJ="${_dead}")
