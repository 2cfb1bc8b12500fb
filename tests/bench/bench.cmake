# The engine micro-benchmark (scripts/bench-engine, docs/benchmarks.md), included by the
# top-level CMakeLists.txt when present. Not a test: performance is read from ratios printed by
# the benchmark, never from timed tests, so nothing here is registered with ctest.

option(LOYALTY_BENCH "Build the benchmark executables (scripts/bench-engine)" OFF)

if(LOYALTY_BENCH)
  add_executable(engine_bench ${CMAKE_CURRENT_LIST_DIR}/engine_bench.cpp)
  target_link_libraries(engine_bench PRIVATE loyalty_core loyalty_warnings)
  target_compile_definitions(engine_bench PRIVATE LOYALTY_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endif()
