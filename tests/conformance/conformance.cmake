# Conformance: every file of shared/conformance/tests through the project's assembler and the C
# core model, one ctest per file; every negative refused the way its kind requires; and the
# nicsim-plugin executable driven the way upstream's runner drives it.
nicsim_gtest(conformance_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/conformance_test.cc
             LIBS nicsim_bpfconf nicsim_conformance_data nicsim_isa LABELS conformance)
add_dependencies(conformance_test nicsim-plugin)
target_compile_definitions(conformance_test PRIVATE
                           NICSIM_PLUGIN_PATH="$<TARGET_FILE:nicsim-plugin>")
