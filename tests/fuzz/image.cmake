# libFuzzer target: arbitrary bytes as a NIC program image into the firmware's program loader
# (PROG_LOAD control messages, inline and by DMA, through a fake HAL whose cores check what the
# loader hands them). The firmware's sources are compiled into the target so that libFuzzer sees
# their coverage. Seeds: images the driver's translator (nicsim_drv_translate) makes of small
# programs, written by the same source built as a generator (NICSIM_FUZZ_SEEDGEN), which also
# checks that the firmware loads each of them.
if(NICSIM_FUZZ)
  add_executable(image_fuzz_seedgen ${CMAKE_CURRENT_LIST_DIR}/image_fuzz.c)
  target_compile_definitions(image_fuzz_seedgen PRIVATE NICSIM_FUZZ_SEEDGEN)
  target_link_libraries(image_fuzz_seedgen PRIVATE nicsim_drv nicsim_firmware nicsim_xdp)
  nicsim_fuzz_target(image HARNESS ${CMAKE_CURRENT_LIST_DIR}/image_fuzz.c
                     INSTRUMENT nicsim_firmware nicsim_xdp nicsim_core MAX_LEN 65536
                     SEED_COMMAND image_fuzz_seedgen SEED_DEPENDS image_fuzz_seedgen)
endif()
