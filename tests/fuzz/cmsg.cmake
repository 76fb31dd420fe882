# libFuzzer target: arbitrary bytes as control messages into the firmware's parser (fake HAL).
# The firmware's sources are compiled into the target so that libFuzzer sees their coverage.
if(NICSIM_FUZZ)
  nicsim_fuzz_target(cmsg HARNESS ${CMAKE_CURRENT_LIST_DIR}/cmsg_fuzz.c
                     INSTRUMENT nicsim_firmware MAX_LEN 8192)
endif()
