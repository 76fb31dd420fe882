# Offload path: the kernel emulation's verifier, the NIC driver's translator, and the lifecycle
# scenarios of the kernel's bpf_offload.py over the real driver + control client + firmware.
nicsim_gtest(verifier_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/verifier_test.cc
             LIBS nicsim_kern LABELS unit kernel)
nicsim_gtest(translate_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/translate_test.cc
             LIBS nicsim_drv nicsim_nicdev LABELS unit)
# Host maps: instances of the map library with the kernel's rules, checked against the host kernel.
nicsim_gtest(hostmap_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/hostmap_test.cc
             LIBS nicsim_kern LABELS unit kernel)
