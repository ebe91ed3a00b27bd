# Avro schemas (schemas/*.avsc) and SQL migrations (sql/*.sql) are compiled into the binary, so
# a deployed worker cannot run with schemas or tables other than the ones it was tested with.
function(amtagvi_embed out_var dir ext symbol)
  file(GLOB inputs CONFIGURE_DEPENDS ${dir}/*.${ext})
  set(out ${CMAKE_BINARY_DIR}/generated/${symbol}.c)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DDIR=${dir} -DEXT=${ext} -DSYMBOL=${symbol}
            -P ${CMAKE_SOURCE_DIR}/cmake/gen_embed.cmake
    DEPENDS ${inputs} ${CMAKE_SOURCE_DIR}/cmake/gen_embed.cmake
    COMMENT "Embedding ${dir}/*.${ext}")
  set(${out_var} ${out} PARENT_SCOPE)
endfunction()
amtagvi_embed(SCHEMAS_C ${CMAKE_SOURCE_DIR}/schemas avsc amtagvi_schema_files)
amtagvi_embed(MIGRATIONS_C ${CMAKE_SOURCE_DIR}/sql sql amtagvi_migration_files)
set(AMTAGVI_SCHEMAS_C ${SCHEMAS_C} ${MIGRATIONS_C} ${CMAKE_SOURCE_DIR}/src/io/embedded.c)
