# The fault tests (tests/integration/fault_test.cpp): a real `loyalty serve` on 127.0.0.1, killed,
# starved of disk, made read-only, held open by slow clients and fed hostile HTTP. They take a
# minute or two, so they are an executable of their own, apart from the unit tests.
add_executable(integration_tests ${PROJECT_SOURCE_DIR}/tests/integration/fault_test.cpp)
target_link_libraries(integration_tests PRIVATE loyalty_core loyalty_test_main loyalty_warnings)
target_include_directories(integration_tests PRIVATE ${PROJECT_SOURCE_DIR}/tests/unit)
target_compile_definitions(integration_tests PRIVATE
  LOYALTY_SOURCE_DIR="${PROJECT_SOURCE_DIR}" LOYALTY_BINARY="$<TARGET_FILE:loyalty>")
add_dependencies(integration_tests loyalty)
# Started first (ctest runs the costliest first): the SIGKILL test alone takes about a minute, and
# started last it would run on one core while the other has nothing left to do.
catch_discover_tests(integration_tests TEST_PREFIX "integration: " PROPERTIES COST 1000
                     EXTRA_ARGS --warn NoTests) # see CMakeLists.txt
