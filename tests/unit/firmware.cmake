# NIC offload path: PCIe transport, firmware (on a fake HAL), host control client end to end.
nicsim_gtest(pcie_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/pcie_test.cc
             LIBS nicsim_ctrl nicsim_pcie LABELS unit)
nicsim_gtest(firmware_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/firmware_test.cc
             LIBS nicsim_firmware LABELS unit)
nicsim_gtest(ctrl_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/ctrl_test.cc
             LIBS nicsim_nicdev LABELS unit)
