# Builds data/prices.tsv into the command as cli_prices_builtin[] (the
# file is read at configure time; editing it re-runs the configuration).
set(OAB_PRICES_FILE ${PROJECT_SOURCE_DIR}/data/prices.tsv)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${OAB_PRICES_FILE})
file(READ ${OAB_PRICES_FILE} OAB_PRICES_HEX HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," OAB_PRICES_BYTES "${OAB_PRICES_HEX}")
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/prices_builtin.c.tmp
  "/* Generated from data/prices.tsv by cli/prices_embed.cmake. */\n"
  "extern const char cli_prices_builtin[];\n"
  "const char cli_prices_builtin[] = { ${OAB_PRICES_BYTES} 0 };\n")
configure_file(${CMAKE_CURRENT_BINARY_DIR}/prices_builtin.c.tmp
  ${CMAKE_CURRENT_BINARY_DIR}/prices_builtin.c COPYONLY)
target_sources(oaibatch_cli_modules PRIVATE
  ${CMAKE_CURRENT_BINARY_DIR}/prices_builtin.c)
install(FILES ${OAB_PRICES_FILE} DESTINATION ${CMAKE_INSTALL_DATADIR}/oaibatch)
