# SPDX-License-Identifier: Apache-2.0
# sluice_add_test(NAME KIND unit|integration|fuzz SOURCES ... [LIBS ...] [SEEDS DIR...])
#
# Every test in the suite is declared through this one helper. Unit and integration tests are
# GoogleTest programs whose cases become CTest entries. Fuzz targets are libFuzzer programs when
# SLUICE_FUZZ is on (clang) and fuzz from their SEEDS folders (default: tests/data/hostile and
# tests/data/regress) for SLUICE_FUZZ_SECONDS; otherwise they are linked with a small driver that
# replays the seeds and a bounded set of mutations, so every build runs them as ordinary tests.
function(sluice_add_test name)
  cmake_parse_arguments(T "" "KIND" "SOURCES;LIBS;LABELS;SEEDS" ${ARGN})
  if(NOT T_SEEDS)
    set(T_SEEDS ${CMAKE_SOURCE_DIR}/tests/data/hostile ${CMAKE_SOURCE_DIR}/tests/data/regress)
  endif()
  if(NOT T_KIND)
    set(T_KIND unit)
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS})
  if(T_KIND STREQUAL "fuzz")
    if(SLUICE_FUZZ)
      target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
      target_link_options(${name} PRIVATE -fsanitize=fuzzer)
      # Fuzz from a scratch copy of the seed folders so new inputs never land in the source tree.
      set(corpus ${CMAKE_BINARY_DIR}/fuzz-corpus/${name})
      list(JOIN T_SEEDS "' '" seed_dirs)
      add_test(NAME fuzz.${name}
               COMMAND sh -c "mkdir -p '${corpus}' && for d in '${seed_dirs}'; do cp -n \"$d\"/* '${corpus}'/ 2>/dev/null; done; exec \"$0\" -max_total_time=${SLUICE_FUZZ_SECONDS} -rss_limit_mb=2048 -artifact_prefix='${CMAKE_BINARY_DIR}/fuzz-crash-${name}-' '${corpus}'" $<TARGET_FILE:${name}>)
    else()
      target_sources(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests/fuzz/replay_main.cpp)
      add_test(NAME fuzz.${name} COMMAND ${name} ${T_SEEDS})
    endif()
    set_tests_properties(fuzz.${name} PROPERTIES LABELS "fuzz;${T_LABELS}")
    if(NOT TARGET sluice_fuzz_targets)
      add_custom_target(sluice_fuzz_targets)
    endif()
    add_dependencies(sluice_fuzz_targets ${name})
  else()
    target_link_libraries(${name} PRIVATE GTest::gtest GTest::gtest_main)
    # Where the tests find the source tree and the built binaries (environment overrides).
    target_compile_definitions(${name} PRIVATE SLUICE_SOURCE_DIR_DEFAULT="${CMAKE_SOURCE_DIR}"
                                               SLUICE_BINARY_DIR_DEFAULT="${CMAKE_BINARY_DIR}")
    gtest_discover_tests(${name}
      TEST_PREFIX "${T_KIND}."
      PROPERTIES LABELS "${T_KIND}"
      DISCOVERY_TIMEOUT 60)
  endif()
endfunction()
