# Core model unit tests.
nicsim_gtest(core_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/core_test.cc LIBS nicsim_core)
