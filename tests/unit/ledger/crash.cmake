# The process the crash test (tests/unit/ledger/crash_test.cpp) kills again and again. It is not a
# *_test.cpp file, so the ledger_tests glob leaves it out; the test finds it by its path.
add_executable(ledger_crash_child ${PROJECT_SOURCE_DIR}/tests/unit/ledger/crash_child.cpp)
target_link_libraries(ledger_crash_child PRIVATE loyalty_core loyalty_warnings)
target_compile_definitions(ledger_tests PRIVATE
  LOYALTY_CRASH_CHILD="$<TARGET_FILE:ledger_crash_child>")
add_dependencies(ledger_tests ledger_crash_child)
