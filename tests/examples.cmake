# The examples and the docs (issue 7).
#  - examples_helpers: the examples' calculator, JSON reader and tools
#  - api_docs: docs/api.md documents every function of the header
#  - docs_snippets: the C code of README.md / docs/guide.md is the code of
#    docs/snippets/*.c, which examples/CMakeLists.txt compiles
#  - examples: every example run against the local server (built-in test
#    model), checking what it prints

if(TARGET basic_batch)
oab_add_unit_test(test_examples_helpers test_examples_calc.c
  ${PROJECT_SOURCE_DIR}/examples/calc.c
  ${PROJECT_SOURCE_DIR}/examples/common.c
  ${PROJECT_SOURCE_DIR}/examples/weather_tools.c)
target_include_directories(test_examples_helpers PRIVATE
  ${PROJECT_SOURCE_DIR}/examples)
endif()

add_test(NAME api_docs
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/test_api_docs.py
          ${PROJECT_SOURCE_DIR}/include/oaibatch.h
          ${PROJECT_SOURCE_DIR}/docs/api.md)
add_test(NAME docs_snippets
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/test_docs_snippets.py
          ${PROJECT_SOURCE_DIR})

if(TARGET oaibatch-server AND TARGET basic_batch)
  add_test(NAME examples
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/test_examples.py
            --server $<TARGET_FILE:oaibatch-server>
            --examples $<TARGET_FILE_DIR:basic_batch>
            --snippets $<TARGET_FILE_DIR:snippet_quickstart>)
  set_tests_properties(examples PROPERTIES TIMEOUT 600)
endif()

# scripts/demo.sh, the README's first command, on this build (no apt, no
# rebuild): runs the examples through a server it starts and stops.
if(TARGET oaibatch-server AND TARGET oaibatch_cli AND TARGET basic_batch)
  add_test(NAME demo_script
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/test_demo.py
            ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
  set_tests_properties(demo_script PROPERTIES TIMEOUT 600)
endif()
