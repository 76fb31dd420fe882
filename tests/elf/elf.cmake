# ELF object loader (host/elf): test objects compiled with clang at build time, one GoogleTest
# executable (feature tests, refusals, malformed input, and a differential test against libbpf
# over every object of the project and Debian's xdp-tools objects).
#
# Provides NICSIM_ELF_TEST_OBJ_DIR and NICSIM_ELF_TEST_OBJECTS (used as the fuzzer's seeds).

# name|source|extra clang flags ("-g" gives BTF; legacy_maps_nobtf has none)
set(_elf_objs
    "globals|globals|-g"
    "legacy_maps|legacy_maps|-g"
    "legacy_maps_ext|legacy_maps|-g -DEXT_DEF"
    "legacy_maps_pinned|legacy_maps|-g -DEXT_DEF -DPINNED"
    "legacy_maps_nobtf|legacy_maps|"
    "maps_btf|maps_btf|-g"
    "subprogs|subprogs|-g"
    "tail_calls|tail_calls|-g"
    "nomaps|refused|-g"
    "refused_core|refused|-g -DUSE_CORE"
    "core|core|-g"
    "core_poison|core|-g -DCORE_POISON"
    "refused_kfunc|refused|-g -DUSE_KFUNC"
    "refused_ksym|refused|-g -DUSE_KSYM"
    "refused_kconfig|refused|-g -DUSE_KCONFIG"
    "refused_callback|refused|-g -DUSE_CALLBACK"
    "map_in_map|map_in_map|-g"
    "refused_map_in_map|refused|-g -DUSE_MAP_IN_MAP"
    "refused_static_prog|refused|-g -DUSE_STATIC_PROG")

set(NICSIM_ELF_TEST_OBJ_DIR ${CMAKE_CURRENT_BINARY_DIR}/elf_objects)
set(NICSIM_ELF_TEST_OBJECTS)
foreach(entry ${_elf_objs})
  string(REPLACE "|" ";" entry "${entry}")
  list(GET entry 0 _name)
  list(GET entry 1 _src)
  list(GET entry 2 _flags)
  separate_arguments(_flags UNIX_COMMAND "${_flags}")
  set(_out ${NICSIM_ELF_TEST_OBJ_DIR}/${_name}.bpf.o)
  add_custom_command(
    OUTPUT ${_out}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${NICSIM_ELF_TEST_OBJ_DIR}
    COMMAND ${NICSIM_BPF_CLANG} -O2 ${_flags} -target bpf -I${NICSIM_BPF_INCLUDE}
            -c ${CMAKE_CURRENT_LIST_DIR}/progs/${_src}.bpf.c -o ${_out}
    DEPENDS ${CMAKE_CURRENT_LIST_DIR}/progs/${_src}.bpf.c
    COMMENT "Compiling ELF test object ${_name}.bpf.o"
    VERBATIM)
  list(APPEND NICSIM_ELF_TEST_OBJECTS ${_out})
endforeach()
add_custom_target(elf_test_objects DEPENDS ${NICSIM_ELF_TEST_OBJECTS})

get_filename_component(_elf_multiarch ${NICSIM_BPF_INCLUDE} NAME)
nicsim_gtest(elf_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/elf_test.cc
             LIBS nicsim_obj nicsim_isa LABELS elf)
add_dependencies(elf_test elf_test_objects nicsim_examples)
target_compile_definitions(elf_test PRIVATE ELF_TEST_OBJ_DIR="${NICSIM_ELF_TEST_OBJ_DIR}"
                           NICSIM_EXAMPLES_DIR="${NICSIM_EXAMPLES_DIR}"
                           ELF_SYSTEM_OBJ_DIR="/usr/lib/${_elf_multiarch}/bpf")
