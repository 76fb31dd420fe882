# ISA library tests: decode/validate/encode and op properties (isa_test), and the assembler and
# disassembler against the bpf_conformance suite in shared/conformance (asm_test).
if(NOT TARGET PkgConfig::JANSSON)
  pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)
endif()

# Reader for the suite's .data files, shared with the core-model conformance runner.
add_library(nicsim_conformance_data STATIC ${CMAKE_CURRENT_LIST_DIR}/../support/conformance_data.c)
target_include_directories(nicsim_conformance_data PUBLIC ${CMAKE_CURRENT_LIST_DIR}/../support)
target_link_libraries(nicsim_conformance_data PUBLIC nicsim_isa)
set_target_properties(nicsim_conformance_data PROPERTIES POSITION_INDEPENDENT_CODE ON)

nicsim_gtest(isa_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/isa_test.cc LIBS nicsim_isa LABELS isa)
nicsim_gtest(asm_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/asm_test.cc
             LIBS nicsim_isa nicsim_conformance_data PkgConfig::JANSSON LABELS isa)
