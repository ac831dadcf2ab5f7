# The tree's layering rules: includes point down (util <- core <- api;
# cli/ and server/ never include the transport), no include cycles.
add_test(NAME layers COMMAND ${Python3_EXECUTABLE}
  ${CMAKE_CURRENT_SOURCE_DIR}/check_layers.py ${PROJECT_SOURCE_DIR})
