# SPDX-License-Identifier: Apache-2.0
# sluice_add_test(NAME KIND unit|integration|fuzz SOURCES ... [LIBS ...] [LABELS ...])
#
# Every test in the suite is declared through this one helper. Unit and integration tests are
# GoogleTest programs whose cases become CTest entries. Fuzz targets are libFuzzer programs when
# SLUICE_FUZZ is on (clang); otherwise they are linked with a small driver that replays the
# corpus folder and the regression inputs, so every build runs them as ordinary tests.
function(sluice_add_test name)
  cmake_parse_arguments(T "" "KIND;CORPUS" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT T_KIND)
    set(T_KIND unit)
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS})
  if(T_KIND STREQUAL "fuzz")
    if(SLUICE_FUZZ)
      target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
      target_link_options(${name} PRIVATE -fsanitize=fuzzer)
      add_test(NAME fuzz.${name}
               COMMAND ${name} -max_total_time=30 -rss_limit_mb=2048
                       ${CMAKE_SOURCE_DIR}/tests/data/regress)
    else()
      target_sources(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests/fuzz/replay_main.cpp)
      add_test(NAME fuzz.${name}
               COMMAND ${name} ${CMAKE_SOURCE_DIR}/tests/data/regress
                       ${CMAKE_SOURCE_DIR}/tests/data/hostile)
    endif()
    set_tests_properties(fuzz.${name} PROPERTIES LABELS "fuzz;${T_LABELS}")
  else()
    target_link_libraries(${name} PRIVATE GTest::gtest GTest::gtest_main)
    gtest_discover_tests(${name}
      TEST_PREFIX "${T_KIND}."
      PROPERTIES LABELS "${T_KIND};${T_LABELS}"
                 ENVIRONMENT "SLUICE_BINARY_DIR=${CMAKE_BINARY_DIR};SLUICE_SOURCE_DIR=${CMAKE_SOURCE_DIR}"
      DISCOVERY_TIMEOUT 60)
  endif()
endfunction()
