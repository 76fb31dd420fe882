# Kernel reference runner (runs the examples in the kernel) and bpftool map JSON.
nicsim_gtest(mapjson_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/mapjson_test.cc LIBS nicsim_mapjson)

pkg_check_modules(KREF_TEST_PCAP REQUIRED IMPORTED_TARGET libpcap)
nicsim_gtest(kref_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/kref_test.cc
             LIBS nicsim_kref nicsim_mapjson PkgConfig::KREF_TEST_PCAP LABELS kernel)
add_dependencies(kref_test nicsim_examples)
target_compile_definitions(kref_test PRIVATE NICSIM_EXAMPLES_DIR="${NICSIM_EXAMPLES_DIR}"
                           NICSIM_EXAMPLES_SOURCE_DIR="${NICSIM_EXAMPLES_SOURCE_DIR}")

# Test objects: a program the verifier refuses, one calling a helper no kernel offers to XDP,
# one with a map pinned by name, and one returning its ingress_ifindex and rx_queue_index.
set(_kref_objs)
foreach(obj kref_reject kref_pin kref_nohelper kref_ifindex)
  set(_out ${CMAKE_CURRENT_BINARY_DIR}/${obj}.bpf.o)
  add_custom_command(
    OUTPUT ${_out}
    COMMAND ${NICSIM_BPF_CLANG} -O2 -g -target bpf -I${NICSIM_BPF_INCLUDE}
            -c ${CMAKE_CURRENT_LIST_DIR}/${obj}.bpf.c -o ${_out}
    DEPENDS ${CMAKE_CURRENT_LIST_DIR}/${obj}.bpf.c
    COMMENT "Compiling ${obj}.bpf.c"
    VERBATIM)
  list(APPEND _kref_objs ${_out})
endforeach()
add_custom_target(kref_test_objects DEPENDS ${_kref_objs})
add_dependencies(kref_test kref_test_objects)
target_compile_definitions(kref_test PRIVATE
                           KREF_REJECT_OBJ="${CMAKE_CURRENT_BINARY_DIR}/kref_reject.bpf.o"
                           KREF_PIN_OBJ="${CMAKE_CURRENT_BINARY_DIR}/kref_pin.bpf.o"
                           KREF_NOHELPER_OBJ="${CMAKE_CURRENT_BINARY_DIR}/kref_nohelper.bpf.o"
                           KREF_IFINDEX_OBJ="${CMAKE_CURRENT_BINARY_DIR}/kref_ifindex.bpf.o")
