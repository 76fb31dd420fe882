# The layering of docs/architecture.md: no include or link goes up a layer.
set(_layers ${CMAKE_CURRENT_LIST_DIR}/layers.sh)
add_test(NAME layout.layers COMMAND sh ${_layers} ${CMAKE_SOURCE_DIR})
set_tests_properties(layout.layers PROPERTIES LABELS unit)
# The checker itself fails on a tree with an upward include and an upward link.
add_test(NAME layout.layers_rejects_upward
         COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/expect_fail.sh ${_layers} ${CMAKE_CURRENT_LIST_DIR}/fixture-bad
                 "sim/core/bad.c:3: sim layer includes nicsim/kern.h of the driver layer"
                 "include/nicsim/unmapped.h: header has no layer"
                 "maps/bad.c:3: maps layer includes nicsim/fw_hal.h of the firmware layer"
                 "nicsim_core (sim layer) links nicsim_kern of the driver layer"
                 "host/run/bad.c:2: the run library includes opt.h of the command line (host/cli)")
set_tests_properties(layout.layers_rejects_upward PROPERTIES LABELS unit)
# Every extern of a static library carries the nicsim_ prefix (the RTL library is left out: it
# holds Verilator's runtime).
set(_prefixed nicsim_util nicsim_isa nicsim_wire nicsim_core nicsim_xdp nicsim_datapath nicsim_pcie
    nicsim_firmware nicsim_fw_maps nicsim_kern nicsim_drv nicsim_ctrl nicsim_nicdev nicsim_system
    nicsim_obj nicsim_mapjson nicsim_kref nicsim_replay nicsim_bpfconf nicsim_run nicsim_opt)
set(_prefixed_files)
foreach(_l ${_prefixed})
  if(TARGET ${_l})
    list(APPEND _prefixed_files $<TARGET_FILE:${_l}>)
  endif()
endforeach()
add_test(NAME layout.prefixes COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/prefixes.sh ${_prefixed_files})
set_tests_properties(layout.prefixes PROPERTIES LABELS unit)
