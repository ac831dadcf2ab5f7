# Tests of the local server (`oaibatch serve`): HTTP-level cases driven by
# Python (server_test.py starts the server on a free port and kills it),
# and the official OpenAI Node SDK round trip (tests/node, installed by
# scripts/test-deps.sh).
if(TARGET oaibatch-server)
  foreach(case lifecycle model cancel_expire failed big restart faults pool
          keys limits)
    add_test(NAME server_${case}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/server_test.py
              $<TARGET_FILE:oaibatch-server> ${case})
    set_tests_properties(server_${case} PROPERTIES TIMEOUT 300)
  endforeach()
  find_program(OAB_NODE node)
  if(OAB_NODE)
    add_test(NAME server_node_sdk
      COMMAND ${OAB_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/node/roundtrip.mjs
              $<TARGET_FILE:oaibatch-server>)
    set_tests_properties(server_node_sdk PROPERTIES TIMEOUT 300)
  endif()
endif()

# The project's own C client (the library) against the server.
if(TARGET oaibatch-server)
  add_executable(test_server_client test_server_client.c)
  target_link_libraries(test_server_client PRIVATE oaibatch_internal)
  target_compile_definitions(test_server_client PRIVATE _GNU_SOURCE)
  add_test(NAME server_c_client
    COMMAND test_server_client $<TARGET_FILE:oaibatch-server>)
  set_tests_properties(server_c_client PROPERTIES TIMEOUT 300)
endif()

# The built-in test model's instances, checked by the library's validator.
if(TARGET oaibatch_server)
  oab_add_unit_test(test_server_testmodel test_server_testmodel.c)
  target_link_libraries(test_server_testmodel PRIVATE oaibatch_server)
endif()
