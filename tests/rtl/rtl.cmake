# RTL tests (only when Verilator built the core, sim/rtl): the conformance suite on the RTL,
# compared with the C model file by file (results, cycles, traces).
if(TARGET nicsim_rtl)
  nicsim_gtest(rtl_conformance_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/rtl_conformance_test.cc
               LIBS nicsim_rtl nicsim_bpfconf nicsim_conformance_data nicsim_isa LABELS "rtl;conformance")
endif()
# Random programs, C model against RTL in lockstep (seed printed; NICSIM_RTL_SEED and
# NICSIM_RTL_PROGRAMS reproduce and soak).
if(TARGET nicsim_rtl)
  nicsim_gtest(rtl_lockstep_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/rtl_lockstep_test.cc
               LIBS nicsim_rtl nicsim_bpfconf nicsim_isa LABELS rtl)
endif()
