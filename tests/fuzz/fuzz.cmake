# Fuzz targets (tests/fuzz/README.md), included by the top-level CMakeLists.txt after the tests.
#
# Two uses of the same target sources (tests/fuzz/<target>_fuzz.cpp, each defining
# LLVMFuzzerTestOneInput):
# - LOYALTY_FUZZ=ON (clang only; scripts/fuzz): loyalty_core is instrumented for coverage with
#   AddressSanitizer and UndefinedBehaviorSanitizer, and each target links libFuzzer as
#   <target>_fuzz.
# - LOYALTY_TESTS=ON (any compiler): each target links tests/fuzz/replay.cpp instead, a main()
#   that runs every file of the seed corpus and of the regressions once, as the ctest
#   fuzz_replay_<target>. The normal test run exercises every seed and every crash ever found,
#   without clang.
include_guard(GLOBAL)

option(LOYALTY_FUZZ "Build the libFuzzer targets (clang only; see scripts/fuzz)" OFF)

set(loyalty_fuzz_dir ${CMAKE_CURRENT_LIST_DIR})
set(loyalty_fuzz_targets program logic requests http)

if(LOYALTY_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "LOYALTY_FUZZ needs clang: cmake -DCMAKE_CXX_COMPILER=clang++ ...")
  endif()
  # Aborting on the first undefined behaviour makes it a crash libFuzzer records.
  set(loyalty_fuzz_sanitizers -fsanitize=address,undefined -fno-sanitize-recover=all
                              -fno-omit-frame-pointer)
  target_compile_options(loyalty_core PRIVATE -fsanitize=fuzzer-no-link ${loyalty_fuzz_sanitizers})
  # Whatever links the instrumented library needs the sanitizers' runtimes.
  target_link_options(loyalty_core INTERFACE -fsanitize=address,undefined)
  foreach(target IN LISTS loyalty_fuzz_targets)
    add_executable(${target}_fuzz ${loyalty_fuzz_dir}/${target}_fuzz.cpp)
    target_compile_options(${target}_fuzz PRIVATE -fsanitize=fuzzer ${loyalty_fuzz_sanitizers})
    target_link_options(${target}_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(${target}_fuzz PRIVATE loyalty_core loyalty_warnings)
    target_compile_definitions(${target}_fuzz PRIVATE LOYALTY_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  endforeach()
  add_custom_target(fuzz_targets)
  foreach(target IN LISTS loyalty_fuzz_targets)
    add_dependencies(fuzz_targets ${target}_fuzz)
  endforeach()
endif()

if(LOYALTY_TESTS AND NOT LOYALTY_FUZZ)
  foreach(target IN LISTS loyalty_fuzz_targets)
    add_executable(${target}_replay ${loyalty_fuzz_dir}/replay.cpp
                                    ${loyalty_fuzz_dir}/${target}_fuzz.cpp)
    target_link_libraries(${target}_replay PRIVATE loyalty_core loyalty_warnings)
    target_compile_definitions(${target}_replay PRIVATE LOYALTY_FUZZ_REPLAY
                               LOYALTY_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
    # A folder that does not exist yet (no regression found for the target) is skipped.
    add_test(NAME fuzz_replay_${target}
             COMMAND ${target}_replay ${loyalty_fuzz_dir}/corpus/${target}
                     ${loyalty_fuzz_dir}/regressions/${target})
  endforeach()
endif()
