# Tests of the `oaibatch` command (tests/test_cli.py drives the binary
# against `oaibatch serve` and tests/cli_fake_server.py).
if(TARGET oaibatch_cli)
  foreach(group TestCommandLine TestValidateBuild TestLocalServer TestFakeServer)
    add_test(NAME cli_${group}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/test_cli.py ${group})
    set_tests_properties(cli_${group} PROPERTIES TIMEOUT 300
      ENVIRONMENT "OAB_CLI=$<TARGET_FILE:oaibatch_cli>;OAB_TESTS=${CMAKE_CURRENT_SOURCE_DIR};OAB_DOCS=${PROJECT_SOURCE_DIR}/docs;ASAN_OPTIONS=detect_leaks=1:exitcode=86")
  endforeach()
endif()

# Unit tests of the command's own pieces (journal, SHA-256, ranges, parser).
if(TARGET oaibatch_cli)
  oab_add_unit_test(test_cli_units test_cli_units.c
    ${PROJECT_SOURCE_DIR}/cli/journal.c
    ${PROJECT_SOURCE_DIR}/cli/common.c ${PROJECT_SOURCE_DIR}/cli/args.c
    ${PROJECT_SOURCE_DIR}/cli/help.c ${PROJECT_SOURCE_DIR}/cli/output.c)
  target_include_directories(test_cli_units PRIVATE ${PROJECT_SOURCE_DIR}/cli)
  target_link_libraries(test_cli_units PRIVATE PkgConfig::SQLITE3)
endif()
