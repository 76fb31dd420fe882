# nicsim run, end to end: every example offloaded and replayed with the kernel comparison (zero
# mismatches), expectations of the examples, real-world XDP objects from Debian's xdp-tools, and
# every bad input the command line must explain.
if(NOT TARGET PkgConfig::JANSSON)
  pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)
endif()
nicsim_gtest(run_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/run_test.cc
             LIBS PkgConfig::JANSSON nicsim_kref LABELS run kernel)
add_dependencies(run_test nicsim nicsim_examples)
target_compile_definitions(run_test PRIVATE NICSIM_CLI="$<TARGET_FILE:nicsim>"
                           NICSIM_EXAMPLES_DIR="${NICSIM_EXAMPLES_DIR}"
                           NICSIM_EXAMPLES_SOURCE_DIR="${NICSIM_EXAMPLES_SOURCE_DIR}")
