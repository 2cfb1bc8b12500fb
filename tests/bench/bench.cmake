# The engine micro-benchmark (scripts/bench-engine, docs/benchmarks.md), included by the
# top-level CMakeLists.txt when present. Not a test: performance is read from ratios printed by
# the benchmark, never from timed tests, so nothing here is registered with ctest.

option(LOYALTY_BENCH "Build the benchmark executables (scripts/bench-engine)" OFF)

if(LOYALTY_BENCH)
  add_executable(engine_bench ${CMAKE_CURRENT_LIST_DIR}/engine_bench.cpp)
  target_link_libraries(engine_bench PRIVATE loyalty_core loyalty_warnings loyalty_allocator)
  target_compile_definitions(engine_bench PRIVATE LOYALTY_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endif()

# The ledger writer benchmark (scripts/bench-ledger): purchases/s at batch sizes 1, 10, 100 as
# ratios to raw SQLite inserts timed in the same run. It calls the sqlite3 C API for the baseline.
if(LOYALTY_BENCH)
  add_executable(ledger_bench ${CMAKE_CURRENT_LIST_DIR}/ledger_bench.cpp)
  target_link_libraries(ledger_bench PRIVATE loyalty_core SQLite::SQLite3 loyalty_warnings
                                             loyalty_allocator)
  target_compile_definitions(ledger_bench PRIVATE LOYALTY_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endif()

# The time-driven jobs benchmark (scripts/bench-jobs): one run_due over 100,000 members with due
# work, as ratios to no-op visits of the same members and to purchases timed in the same run. It
# calls the sqlite3 C API only to check the template database it builds through the ledger.
if(LOYALTY_BENCH)
  add_executable(jobs_bench ${CMAKE_CURRENT_LIST_DIR}/jobs_bench.cpp)
  target_link_libraries(jobs_bench PRIVATE loyalty_core SQLite::SQLite3 loyalty_warnings
                                           loyalty_allocator)
  target_compile_definitions(jobs_bench PRIVATE LOYALTY_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endif()

# The whole-system benchmark (scripts/bench): a trivial Beast server as the HTTP ceiling, the
# load generator (closed and open loop), the storage ceiling (the SQLite writes of a purchase
# without the engine) and the JsonLogic evaluation micro-benchmark set against json-logic-js.
# The baselines use the server's allocator (loyalty_allocator), so that a ratio compares the
# engine with them and not one malloc with another.
if(LOYALTY_BENCH)
  # The server's own response head writer, compiled in: the ceiling writes answers as it does.
  add_executable(http_ceiling ${CMAKE_CURRENT_LIST_DIR}/http_ceiling.cpp
                              ${PROJECT_SOURCE_DIR}/src/http/response_head.cpp)
  target_include_directories(http_ceiling PRIVATE ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(http_ceiling PRIVATE Boost::headers Threads::Threads loyalty_warnings
                                             loyalty_allocator)

  add_executable(loadgen ${CMAKE_CURRENT_LIST_DIR}/loadgen.cpp)
  target_link_libraries(loadgen PRIVATE Boost::headers Threads::Threads loyalty_warnings)

  add_executable(storage_ceiling ${CMAKE_CURRENT_LIST_DIR}/storage_ceiling.cpp)
  target_link_libraries(storage_ceiling PRIVATE loyalty_core SQLite::SQLite3 loyalty_warnings
                                                loyalty_allocator)
  target_compile_definitions(storage_ceiling PRIVATE LOYALTY_SOURCE_DIR="${PROJECT_SOURCE_DIR}")

  add_executable(page_cache ${CMAKE_CURRENT_LIST_DIR}/page_cache.cpp)
  target_link_libraries(page_cache PRIVATE loyalty_warnings)

  add_executable(log_writes ${CMAKE_CURRENT_LIST_DIR}/log_writes.cpp)
  target_link_libraries(log_writes PRIVATE loyalty_warnings)

  add_executable(logic_bench ${CMAKE_CURRENT_LIST_DIR}/logic_bench.cpp)
  target_link_libraries(logic_bench PRIVATE loyalty_core loyalty_warnings loyalty_allocator)
  target_compile_definitions(logic_bench PRIVATE LOYALTY_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endif()
