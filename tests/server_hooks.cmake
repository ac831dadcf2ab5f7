# Webhooks and metrics of the local server (issue 14): webhook events
# verified by the openai npm package (tests/node/verify_webhooks.mjs) and
# by an HMAC check in Python, delivery retries, restart and give-up; the
# /metrics exposition checked by promtool and against what a batch did.
if(TARGET oaibatch-server)
  find_program(OAB_NODE node)
  find_program(OAB_PROMTOOL promtool)
  set(hooks_cases metrics_auth webhook_config)
  if(OAB_NODE)
    list(APPEND hooks_cases webhook_events webhook_expired webhook_retry
         webhook_restart webhook_give_up)
  endif()
  if(OAB_PROMTOOL)
    list(APPEND hooks_cases metrics)
  endif()
  foreach(case ${hooks_cases})
    add_test(NAME server_hooks_${case}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/server_hooks_test.py
              $<TARGET_FILE:oaibatch-server> ${case})
    set_tests_properties(server_hooks_${case} PROPERTIES TIMEOUT 300
      ENVIRONMENT "OAB_NODE=${OAB_NODE}")
  endforeach()
endif()
if(TARGET oaibatch_server)
  oab_add_unit_test(test_server_hooks_units test_server_hooks_units.c)
  target_link_libraries(test_server_hooks_units PRIVATE oaibatch_server)
endif()
# The web view in headless Chromium (Debian's chromium + chromium-driver).
find_program(OAB_CHROMEDRIVER chromedriver)
find_program(OAB_CHROMIUM chromium)
if(TARGET oaibatch-server AND OAB_CHROMEDRIVER AND OAB_CHROMIUM)
  add_test(NAME server_ui
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/server_ui_test.py
            $<TARGET_FILE:oaibatch-server> ${OAB_CHROMEDRIVER} ${OAB_CHROMIUM})
  set_tests_properties(server_ui PROPERTIES TIMEOUT 300)
endif()
