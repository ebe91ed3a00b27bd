# Generates schemas_gen.c: `const char *amtagvi_schema_text(const char *name)` returning the
# text of schemas/<name>.avsc.
file(GLOB AMTAGVI_SCHEMA_FILES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/schemas/*.avsc)
set(AMTAGVI_SCHEMAS_C ${CMAKE_BINARY_DIR}/generated/schemas_gen.c)
add_custom_command(
  OUTPUT ${AMTAGVI_SCHEMAS_C}
  COMMAND ${CMAKE_COMMAND} -DOUT=${AMTAGVI_SCHEMAS_C} -DSCHEMA_DIR=${CMAKE_SOURCE_DIR}/schemas
          -P ${CMAKE_SOURCE_DIR}/cmake/gen_schemas.cmake
  DEPENDS ${AMTAGVI_SCHEMA_FILES} ${CMAKE_SOURCE_DIR}/cmake/gen_schemas.cmake
  COMMENT "Embedding Avro schemas")
