# The engine micro-benchmark (scripts/bench-engine, docs/benchmarks.md), included by the
# top-level CMakeLists.txt when present. Not a test: performance is read from ratios printed by
# the benchmark, never from timed tests, so nothing here is registered with ctest.

option(LOYALTY_BENCH "Build the benchmark executables (scripts/bench-engine)" OFF)

if(LOYALTY_BENCH)
  add_executable(engine_bench ${CMAKE_CURRENT_LIST_DIR}/engine_bench.cpp)
  target_link_libraries(engine_bench PRIVATE loyalty_core loyalty_warnings)
  target_compile_definitions(engine_bench PRIVATE LOYALTY_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endif()

# The ledger writer benchmark (scripts/bench-ledger): purchases/s at batch sizes 1, 10, 100 as
# ratios to raw SQLite inserts timed in the same run. It calls the sqlite3 C API for the baseline.
if(LOYALTY_BENCH)
  add_executable(ledger_bench ${CMAKE_CURRENT_LIST_DIR}/ledger_bench.cpp)
  target_link_libraries(ledger_bench PRIVATE loyalty_core SQLite::SQLite3 loyalty_warnings)
  target_compile_definitions(ledger_bench PRIVATE LOYALTY_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endif()
