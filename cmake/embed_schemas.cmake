# Avro schemas (schemas/*.avsc) and SQL migrations (sql/*.sql) are compiled into the binary, so
# a deployed worker cannot run with schemas or tables other than the ones it was tested with.
# Included by the main build and by the fuzz build (tests/fuzz/CMakeLists.txt, a project of its
# own), so paths are relative to this file, not to the including project. Sets
# AMTAGVI_SCHEMAS_C: the generated tables plus src/io/embedded.c, which reads them.
get_filename_component(AMTAGVI_EMBED_ROOT "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
function(amtagvi_embed out_var dir ext symbol)
  file(GLOB inputs CONFIGURE_DEPENDS ${dir}/*.${ext})
  set(out ${CMAKE_BINARY_DIR}/generated/${symbol}.c)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DDIR=${dir} -DEXT=${ext} -DSYMBOL=${symbol}
            -P ${AMTAGVI_EMBED_ROOT}/cmake/gen_embed.cmake
    DEPENDS ${inputs} ${AMTAGVI_EMBED_ROOT}/cmake/gen_embed.cmake
    COMMENT "Embedding ${dir}/*.${ext}")
  set(${out_var} ${out} PARENT_SCOPE)
endfunction()
amtagvi_embed(SCHEMAS_C ${AMTAGVI_EMBED_ROOT}/schemas avsc amtagvi_schema_files)
amtagvi_embed(MIGRATIONS_C ${AMTAGVI_EMBED_ROOT}/sql sql amtagvi_migration_files)
set(AMTAGVI_SCHEMAS_C ${SCHEMAS_C} ${MIGRATIONS_C} ${AMTAGVI_EMBED_ROOT}/src/io/embedded.c)
