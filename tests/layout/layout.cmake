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
                 "nicsim_core (sim layer) links nicsim_kern of the driver layer")
set_tests_properties(layout.layers_rejects_upward PROPERTIES LABELS unit)
