# The tokenizer, request tokens, `oaibatch tokens` and `estimate`. The
# rank files come from scripts/test-deps.sh (tests/node/encodings, made
# from the npm package js-tiktoken), and the npm packages js-tiktoken and
# tiktoken are the oracles of the token counts.
set(OAB_TOK_ENV "OAB_ENCODINGS_DIR=${PROJECT_SOURCE_DIR}/tests/node/encodings")

add_executable(test_tokenizer test_tokenizer.c)
target_link_libraries(test_tokenizer PRIVATE oaibatch_internal)
add_test(NAME tokenizer COMMAND test_tokenizer)
set_tests_properties(tokenizer PROPERTIES TIMEOUT 300 ENVIRONMENT "${OAB_TOK_ENV}")

if(TARGET oaibatch_cli)
  add_test(NAME tokenizer_cli
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/test_tokens_cli.py
            $<TARGET_FILE:oaibatch_cli> ${CMAKE_CURRENT_SOURCE_DIR}/data/tokenizer)
  set_tests_properties(tokenizer_cli PROPERTIES TIMEOUT 300 ENVIRONMENT "${OAB_TOK_ENV}")
  find_program(OAB_NODE node)
  if(OAB_NODE)
    foreach(sample corpus edge)
      add_test(NAME tokenizer_oracle_${sample}
        COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/test_tokenizer_oracle.py
                $<TARGET_FILE:oaibatch_cli> ${OAB_NODE}
                ${CMAKE_CURRENT_SOURCE_DIR}/node/tiktoken_oracle.mjs
                ${CMAKE_CURRENT_SOURCE_DIR}/data/tokenizer/${sample}.jsonl)
      set_tests_properties(tokenizer_oracle_${sample} PROPERTIES TIMEOUT 300
        ENVIRONMENT "${OAB_TOK_ENV}")
    endforeach()
  endif()
endif()
