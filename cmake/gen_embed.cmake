# Writes ${OUT}: a NULL-terminated table `const embedded_file_t ${SYMBOL}[]` holding the text
# of every ${DIR}/*.${EXT} file in name order (name without its last extension, text:
# schemas/claim.v1.avsc is "claim.v1").
file(GLOB files ${DIR}/*.${EXT})
list(SORT files)
set(body "#include \"embedded.h\"\n")
set(table "")
set(i 0)
foreach(f ${files})
  get_filename_component(name ${f} NAME_WLE)
  file(READ ${f} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  string(APPEND body "static const char text_${i}[] = {${hex}0x00};\n")
  string(APPEND table "    {\"${name}\", text_${i}},\n")
  math(EXPR i "${i} + 1")
endforeach()
string(APPEND body "const embedded_file_t ${SYMBOL}[] = {\n${table}    {0, 0}};\n")
file(WRITE ${OUT}.tmp "${body}")
configure_file(${OUT}.tmp ${OUT} COPYONLY)
