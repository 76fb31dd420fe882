# The SystemC NIC (sim/nic): queues, drops, timing, host queues, the TLM BAR.
nicsim_gtest(nic_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/nic_test.cc
             LIBS nicsim_system nicsim_isa LABELS "unit;nic")
