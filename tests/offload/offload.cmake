# Offload lifecycle: the scenarios of the kernel's tools/testing/selftests/net/bpf_offload.py
# (netdevsim) walked over the real stack: kernel emulation + NIC driver + control client + the
# emulated NIC with its firmware.
nicsim_gtest(lifecycle_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/lifecycle_test.cc
             LIBS nicsim_drv nicsim_nicdev LABELS unit kernel)
target_include_directories(lifecycle_test PRIVATE ${CMAKE_SOURCE_DIR}/tests/unit)
