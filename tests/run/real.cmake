# Real third-party program shapes (issue 8): objects built the way the kernel's samples,
# xdp-tutorial and Katran build them (clang -O2 -g -target bpf; legacy section names, long names,
# several programs per object), run end to end through `nicsim run` and the kernel comparison.
nicsim_gtest(real_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/real_test.cc
             LIBS PkgConfig::JANSSON nicsim_kref nicsim_obj nicsim_xdp LABELS run kernel)
add_dependencies(real_test nicsim)
set(_real_objs)
foreach(obj real_multi real_printk real_printk_sub real_rss real_ifindex real_devmap real_cpumap
            real_mim)
  set(_out ${CMAKE_CURRENT_BINARY_DIR}/${obj}.bpf.o)
  add_custom_command(
    OUTPUT ${_out}
    COMMAND ${NICSIM_BPF_CLANG} -O2 -g -target bpf -I${NICSIM_BPF_INCLUDE}
            -c ${CMAKE_CURRENT_LIST_DIR}/progs/${obj}.bpf.c -o ${_out}
    DEPENDS ${CMAKE_CURRENT_LIST_DIR}/progs/${obj}.bpf.c
    COMMENT "Compiling tests/run/progs/${obj}.bpf.c"
    VERBATIM)
  list(APPEND _real_objs ${_out})
endforeach()
# CO-RE, as a vmlinux.h-based project builds it (the ELF tests' source; its poisoned variant)
foreach(entry "real_core|" "real_core_poison|-DCORE_POISON")
  string(REPLACE "|" ";" entry "${entry}")
  list(GET entry 0 _name)
  list(GET entry 1 _flags)
  set(_out ${CMAKE_CURRENT_BINARY_DIR}/${_name}.bpf.o)
  add_custom_command(
    OUTPUT ${_out}
    COMMAND ${NICSIM_BPF_CLANG} -O2 -g -target bpf ${_flags} -I${NICSIM_BPF_INCLUDE}
            -c ${CMAKE_SOURCE_DIR}/tests/elf/progs/core.bpf.c -o ${_out}
    DEPENDS ${CMAKE_SOURCE_DIR}/tests/elf/progs/core.bpf.c
    COMMENT "Compiling tests/elf/progs/core.bpf.c as ${_name}"
    VERBATIM)
  list(APPEND _real_objs ${_out})
endforeach()
add_custom_target(real_test_objects DEPENDS ${_real_objs})
add_dependencies(real_test real_test_objects)
target_compile_definitions(real_test PRIVATE NICSIM_CLI="$<TARGET_FILE:nicsim>"
                           REAL_OBJ_DIR="${CMAKE_CURRENT_BINARY_DIR}")

