# libFuzzer target: sequences of well-formed control messages whose sizes, counts, ids, indices
# and flags are boundary values (0x80000001, 0xffffffff, 2^31, ...), into the firmware (fake
# HAL). A hang is a failure: -timeout 10 s per input.
if(NICSIM_FUZZ)
  nicsim_fuzz_target(cmsgseq HARNESS ${CMAKE_CURRENT_LIST_DIR}/cmsgseq_fuzz.c
                     INSTRUMENT nicsim_firmware MAX_LEN 4096 TIMEOUT 10)
endif()
