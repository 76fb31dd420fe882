# nicsim run through the SystemC NIC (docs/nic-model.md), end to end.
if(NOT TARGET PkgConfig::JANSSON)
  pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)
endif()
nicsim_gtest(nic_run_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/nic_run_test.cc
             LIBS PkgConfig::JANSSON LABELS "run;nic")
add_dependencies(nic_run_test nicsim nicsim_examples)
target_compile_definitions(nic_run_test PRIVATE NICSIM_CLI="$<TARGET_FILE:nicsim>"
                           NICSIM_EXAMPLES_DIR="${NICSIM_EXAMPLES_DIR}"
                           NICSIM_EXAMPLES_SOURCE_DIR="${NICSIM_EXAMPLES_SOURCE_DIR}")
