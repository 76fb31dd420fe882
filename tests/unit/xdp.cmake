# XDP helpers and the datapath.
nicsim_gtest(xdp_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/xdp_test.cc LIBS nicsim_system nicsim_datapath nicsim_xdp)
