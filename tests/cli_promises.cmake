# The command's promises under concurrency, outages and odd output paths
# (tests/test_cli_promises.py, on the servers of tests/test_cli.py).
if(TARGET oaibatch_cli)
  foreach(group TestConcurrency TestOutages TestOutputPaths TestJobState TestBeforeSending TestStandardInput TestCleanUp TestJournalAndServer TestWatch TestCompletion TestMessages)
    add_test(NAME cli_promises_${group}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/test_cli_promises.py ${group})
    set_tests_properties(cli_promises_${group} PROPERTIES TIMEOUT 300
      ENVIRONMENT "OAB_CLI=$<TARGET_FILE:oaibatch_cli>;OAB_TESTS=${CMAKE_CURRENT_SOURCE_DIR};OAB_DOCS=${PROJECT_SOURCE_DIR}/docs;ASAN_OPTIONS=detect_leaks=1:exitcode=86")
  endforeach()
endif()
