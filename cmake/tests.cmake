# Every tests/unit/test_*.c is a Check suite of its own, registered with ctest.
file(GLOB UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/test_*.c)
foreach(src ${UNIT_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_link_libraries(${name} PRIVATE amtagvi_io PkgConfig::CHECK)
  target_compile_definitions(${name} PRIVATE
    AMTAGVI_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
    AMTAGVI_POLICY_FILE="${CMAKE_SOURCE_DIR}/policy/IP0625.json")
  add_test(NAME ${name} COMMAND ${name})
  # CK_FORK=no keeps ASan/valgrind reports attached to the failing test.
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "CK_FORK=no" LABELS unit)
endforeach()

# test_avro_codec checks the codec's direct determination encoder against a reference on avro-c's
# generic values, which is test code, not product.
target_sources(test_avro_codec PRIVATE ${CMAKE_SOURCE_DIR}/tests/unit/avro_reference.c)

# Script tests: tests/scripts/*.sh get the build dir and source dir.
file(GLOB SCRIPT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/scripts/*.sh)
foreach(script ${SCRIPT_TESTS})
  get_filename_component(name ${script} NAME_WE)
  add_test(NAME ${name} COMMAND bash ${script} ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
  set_tests_properties(${name} PROPERTIES LABELS script TIMEOUT 600)
endforeach()
