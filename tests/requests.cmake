# Tests of the request area: builder, JSONL writer, validator, splitting.
oab_add_unit_test(test_validate test_validate.c)
oab_add_unit_test(test_request test_request.c)
oab_add_unit_test(test_request_jsonl test_request_jsonl.c)
oab_add_unit_test(test_split test_split.c)
oab_add_unit_test(test_request_create_job test_request_create_job.c)
set_tests_properties(test_request_create_job PROPERTIES
  ENVIRONMENT "OAB_TESTS=${CMAKE_CURRENT_SOURCE_DIR};OAB_PYTHON=${Python3_EXECUTABLE}")
