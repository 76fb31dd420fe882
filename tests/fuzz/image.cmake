# libFuzzer target: arbitrary bytes as a NIC program image into the firmware's program loader
# (PROG_LOAD control messages, inline and by DMA, through a fake HAL whose cores check what the
# loader hands them). The firmware's sources are compiled into the target so that libFuzzer sees
# their coverage. Seeds: images the driver's translator (nicsim_drv_translate) makes of small
# programs, written by the same source built as a generator (NICSIM_FUZZ_SEEDGEN), which also
# checks that the firmware loads each of them.
if(NICSIM_FUZZ)
  get_target_property(_img_fw_src nicsim_firmware SOURCES)
  get_target_property(_img_fw_dir nicsim_firmware SOURCE_DIR)
  get_target_property(_img_fw_libs nicsim_firmware LINK_LIBRARIES)
  list(TRANSFORM _img_fw_src PREPEND ${_img_fw_dir}/)
  add_executable(image_fuzz ${CMAKE_CURRENT_LIST_DIR}/image_fuzz.c ${_img_fw_src})
  target_include_directories(image_fuzz PRIVATE ${_img_fw_dir})
  target_compile_options(image_fuzz PRIVATE -fsanitize=fuzzer,address,undefined
                         -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(image_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(image_fuzz PRIVATE ${_img_fw_libs})

  add_executable(image_fuzz_seedgen ${CMAKE_CURRENT_LIST_DIR}/image_fuzz.c)
  target_compile_definitions(image_fuzz_seedgen PRIVATE NICSIM_FUZZ_SEEDGEN)
  target_link_libraries(image_fuzz_seedgen PRIVATE nicsim_drv nicsim_firmware)
  set(_img_seeds ${CMAKE_CURRENT_BINARY_DIR}/image_seeds)
  add_custom_command(
    OUTPUT ${_img_seeds}/.stamp
    COMMAND ${CMAKE_COMMAND} -E make_directory ${_img_seeds}
    COMMAND image_fuzz_seedgen ${_img_seeds}
    COMMAND ${CMAKE_COMMAND} -E touch ${_img_seeds}/.stamp
    DEPENDS image_fuzz_seedgen
    COMMENT "Seeding the image fuzzer's corpus"
    VERBATIM)
  add_custom_target(image_fuzz_seeds DEPENDS ${_img_seeds}/.stamp)
  add_dependencies(image_fuzz image_fuzz_seeds)
  file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/image_corpus)
  add_test(NAME fuzz.image
           COMMAND image_fuzz -max_total_time=${NICSIM_FUZZ_SECONDS} -seed=${NICSIM_FUZZ_SEED} -max_len=65536
                   -rss_limit_mb=2048 ${CMAKE_CURRENT_BINARY_DIR}/image_corpus ${_img_seeds})
  set_tests_properties(fuzz.image PROPERTIES LABELS fuzz TIMEOUT 0)
endif()
