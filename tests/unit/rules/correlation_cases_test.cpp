// SPDX-License-Identifier: Apache-2.0
/// Runs every `tests/cases/correlation/**/*.test.yml` through `run_rule_tests` (the code behind
/// `sluice rules test`), one CTest entry per file: events in order, the base rules each must
/// match, and the correlation alerts expected. The format is documented in rules/README.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "sluice/rules/rule_test.hpp"
#include "tests_support.hpp"

namespace {

namespace fs = std::filesystem;

// CMake compiles with absolute source paths, so the cases sit next to this file's folder; test
// discovery runs before CTest sets SLUICE_SOURCE_DIR, so the environment cannot be used here.
fs::path cases_dir() {
  return fs::path(__FILE__).parent_path().parent_path().parent_path() / "cases" / "correlation";
}

std::vector<std::string> case_files() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(cases_dir(), ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() > 9 && name.compare(name.size() - 9, 9, ".test.yml") == 0)
      out.push_back(fs::relative(e.path(), cases_dir()).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class CorrelationCase : public ::testing::TestWithParam<std::string> {};

TEST_P(CorrelationCase, AlertsAsExpected) {
  auto result = sluice::rules::run_rule_tests((cases_dir() / GetParam()).string(), "");
  ASSERT_TRUE(result.has_value()) << result.error().message;
  for (const auto& d : result->diagnostics)
    ADD_FAILURE() << "rule not loaded: " << d.path << " " << d.rule_id << " [" << d.reason << "] "
                  << d.message;
  for (const auto& f : result->failures)
    ADD_FAILURE() << f;
  EXPECT_GT(result->events, 0u);
  EXPECT_EQ(result->passed, result->events);
}

std::string case_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = info.param;
  n = n.substr(0, n.size() - 9);
  for (auto& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Cases, CorrelationCase, ::testing::ValuesIn(case_files()), case_name);

}  // namespace
