# Hardening regressions of the local server (issue 12): hostile clients
# and a misbehaving upstream, against the server on 127.0.0.1
# (server_hardening_test.py), and the I/O-free parts of the server fed
# directly (test_server_units.c).
if(TARGET oaibatch-server)
  foreach(case blank_lines caps upstream_trailing range uploads body_caps
          owner_after slow_clients many_batches data_folder
          expiry stream_endpoints fair_keys
          thousand_batches)
    add_test(NAME server_h_${case}
      COMMAND ${Python3_EXECUTABLE}
              ${CMAKE_CURRENT_SOURCE_DIR}/server_hardening_test.py
              $<TARGET_FILE:oaibatch-server> ${case})
    set_tests_properties(server_h_${case} PROPERTIES TIMEOUT 600)
  endforeach()
endif()
if(TARGET oaibatch_server)
  oab_add_unit_test(test_server_units test_server_units.c)
  target_link_libraries(test_server_units PRIVATE oaibatch_server)
endif()
