# NIC map library: kernel rules, and the same operations differentially against real kernel maps
# (skipped where bpf() is not permitted).
pkg_check_modules(FW_MAPS_TEST_LIBBPF REQUIRED IMPORTED_TARGET libbpf)
nicsim_gtest(fw_maps_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/fw_maps_test.cc
             LIBS nicsim_fw_maps PkgConfig::FW_MAPS_TEST_LIBBPF LABELS unit kernel)
# The library's externs all carry the nicsim_ prefix (a static library shares one namespace with
# every program that links it); type-internal helpers are static.
add_test(NAME fw_maps.externs_prefixed
         COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/externs_prefixed.sh $<TARGET_FILE:nicsim_fw_maps>)
set_tests_properties(fw_maps.externs_prefixed PROPERTIES LABELS unit)
