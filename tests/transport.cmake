# Transport, Files, Batches and waiting, against tests/mock_server.py
# (cases in tests/mock_cases/).
oab_add_unit_test(test_transport test_transport.c)
set_tests_properties(test_transport PROPERTIES TIMEOUT 300
  ENVIRONMENT "OAB_TESTS=${CMAKE_CURRENT_SOURCE_DIR};OAB_PYTHON=${Python3_EXECUTABLE}")

# 300 MiB upload + download: content intact, memory flat.
oab_add_unit_test(test_transport_big test_transport_big.c)
set_tests_properties(test_transport_big PROPERTIES TIMEOUT 300
  ENVIRONMENT "OAB_TESTS=${CMAKE_CURRENT_SOURCE_DIR};OAB_PYTHON=${Python3_EXECUTABLE}")
