# Anthropic Message Batches (issue 16): the I/O-free translation both ways
# on the cases in tests/data/anthropic/, and the library's round trip
# through tests/anthropic_mock.py.
oab_add_unit_test(test_anthropic_translate test_anthropic_translate.c)
oab_add_unit_test(test_anthropic_client test_anthropic_client.c)
target_compile_definitions(test_anthropic_client PRIVATE _POSIX_C_SOURCE=200809L)
set_tests_properties(test_anthropic_client PROPERTIES TIMEOUT 300
  ENVIRONMENT "OAB_TESTS=${CMAKE_CURRENT_SOURCE_DIR};OAB_PYTHON=${Python3_EXECUTABLE}")
