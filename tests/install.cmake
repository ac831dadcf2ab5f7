# cmake --install, then a consumer built with pkg-config and find_package.
set(OAB_CONSUMER_FLAGS "")
if(OAB_SANITIZE)
  set(OAB_CONSUMER_FLAGS "-fsanitize=address,undefined")
endif()
add_test(NAME install_consumer
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_install.sh
          ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR} ${CMAKE_C_COMPILER}
          "${OAB_CONSUMER_FLAGS}")
set_tests_properties(install_consumer PROPERTIES TIMEOUT 300)
