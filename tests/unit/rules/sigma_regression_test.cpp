// SPDX-License-Identifier: Apache-2.0
/// SigmaHQ's own regression tests, read in place from the shared data folder: for every
/// `regression_data/**/info.yml`, load the rule it names (found by id in rules*/), feed the JSON
/// events next to the evtx and expect `match_count` detections. Also loads the whole SigmaHQ set
/// and pins how many rules load and why the rest are skipped.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "sluice/parse/parser.hpp"
#include "sluice/rules/rule_test.hpp"
#include "sluice/rules/sigma.hpp"
#include "tests_support.hpp"

namespace {

namespace fs = std::filesystem;

std::map<std::string, std::string> index_rules(const fs::path& sigma) {
  std::map<std::string, std::string> by_id;
  for (const char* dir : {"rules", "rules-emerging-threats", "rules-threat-hunting",
                          "rules-placeholder", "rules-compliance", "deprecated"}) {
    if (!fs::exists(sigma / dir)) continue;
    for (const auto& e : fs::recursive_directory_iterator(sigma / dir)) {
      if (!e.is_regular_file() || e.path().extension() != ".yml") continue;
      std::ifstream in(e.path());
      std::string line;
      while (std::getline(in, line)) {
        if (line.rfind("id: ", 0) == 0) {
          by_id.emplace(line.substr(4), e.path().string());
          break;
        }
      }
    }
  }
  return by_id;
}

TEST(SigmaRegression, SigmaHqRegressionData) {
  SLUICE_REQUIRE_DATA(regression, "sigma/regression_data");
  const fs::path sigma = regression.parent_path();
  const auto by_id = index_rules(sigma);
  std::size_t cases = 0, passed = 0;
  std::vector<std::string> failures;
  std::vector<fs::path> infos;
  for (const auto& e : fs::recursive_directory_iterator(regression))
    if (e.path().filename() == "info.yml") infos.push_back(e.path());
  std::sort(infos.begin(), infos.end());
  for (const auto& info_path : infos) {
    const YAML::Node info = YAML::LoadFile(info_path.string());
    const std::string id = info["rule_metadata"][0]["id"].as<std::string>();
    for (const auto& t : info["regression_tests_info"]) {
      ++cases;
      // Without `match_count` the test only asks for a detection (SigmaHQ's harness: >= 1).
      const int want = t["match_count"] ? t["match_count"].as<int>() : -1;
      fs::path json = sigma / t["path"].as<std::string>();
      json.replace_extension(".json");
      auto rule = by_id.find(id);
      if (rule == by_id.end()) {
        failures.push_back(id + ": rule not found");
        continue;
      }
      sluice::rules::SigmaOptions options;
      options.paths = {rule->second};
      sluice::rules::LoadReport report;
      auto set = sluice::rules::load_sigma(options, report);
      ASSERT_TRUE(set.has_value()) << set.error().message;
      if (report.loaded != 1) {
        failures.push_back(id + ": not loaded: " +
                           (report.skipped.empty() ? std::string("?") : report.skipped[0].message));
        continue;
      }
      sluice::EventBatch batch;
      auto added = sluice::rules::add_json_events(sluice::test::read_file(json), batch);
      if (!added) {
        failures.push_back(id + ": " + json.string() + ": " + added.error().message);
        continue;
      }
      auto scanner = (*set)->make_scanner();
      std::vector<sluice::Detection> detections;
      scanner->scan(batch, detections);
      // The same events as one JSON line each, through core's parser, must give the same count.
      sluice::EventBatch parsed;
      sluice::Parser parser;
      for (const auto& e : batch.events()) {
        sluice::Event& ev = parsed.add_record(e.raw, 0);
        parser.parse(ev, parsed.arena());
      }
      std::vector<sluice::Detection> via_parser;
      scanner->scan(parsed, via_parser);
      EXPECT_EQ(via_parser.size(), detections.size()) << id << " through sluice::Parser";
      if (want < 0 ? !detections.empty() : static_cast<int>(detections.size()) == want) {
        ++passed;
      } else {
        failures.push_back(id + " (" + rule->second + "): expected " + std::to_string(want) +
                           " got " + std::to_string(detections.size()));
      }
    }
  }
  // Two cases whose JSON holds more matching events than the evtx's `match_count` counts: by the
  // specification every one of them matches (three `procdump*.exe` files dropped; both
  // `AutoShareWks` and `AutoShareServer` set to 0), so we expect the larger number there.
  const std::vector<std::string> known = {
      "8fbf3271-1ef6-4e94-8210-03c2317947f6 (" +
          (sigma / "rules/windows/file/file_event/file_event_win_cred_dump_tools_dropped_files.yml")
              .string() +
          "): expected 1 got 3",
      "c7dcacd0-cc59-4004-b0a4-1d6cdebe6f3e (" +
          (sigma /
           "rules/windows/registry/registry_set/registry_set_disable_administrative_share.yml")
              .string() +
          "): expected 1 got 2",
  };
  for (const auto& f : failures)
    if (std::find(known.begin(), known.end(), f) == known.end()) ADD_FAILURE() << f;
  std::printf("SigmaHQ regression: %zu/%zu pass (%zu known JSON/evtx count differences)\n", passed,
              cases, known.size());
  // 102 info.yml files; one (cisco_cli_dot1x_disabled) has its test commented out.
  EXPECT_EQ(cases, 101u);
  EXPECT_EQ(passed, 99u);
}

TEST(SigmaRegression, WholeSigmaHqSetLoads) {
  SLUICE_REQUIRE_DATA(sigma_rules, "sigma/rules");
  const fs::path sigma = sigma_rules.parent_path();
  sluice::rules::SigmaOptions options;
  options.paths = {(sigma / "rules").string(), (sigma / "rules-emerging-threats").string(),
                   (sigma / "rules-threat-hunting").string()};
  sluice::rules::LoadReport report;
  auto set = sluice::rules::load_sigma(options, report);
  ASSERT_TRUE(set.has_value()) << set.error().message;
  std::map<std::string, std::size_t> reasons;
  for (const auto& d : report.skipped)
    ++reasons[d.reason];
  for (const auto& d : report.errors) {
    ++reasons["error: " + d.reason];
    ADD_FAILURE() << d.path << ": " << d.reason << ": " << d.message;
  }
  std::printf("SigmaHQ set: %zu loaded, %zu skipped, %zu errors, %.0f ms, %zu RE2 fallbacks\n",
              report.loaded, report.skipped.size(), report.errors.size(), report.compile_ms,
              report.regex_fallbacks);
  for (const auto& [r, n] : reasons)
    std::printf("  %zu %s\n", n, r.c_str());
  // Pinned at the SigmaHQ snapshot in shared/data (8eaafff1): every rule whose log source the
  // default mapping covers loads, except the two that need |expand placeholders.
  EXPECT_EQ(report.loaded, 3313u);
  EXPECT_EQ(reasons["unknown logsource"], 439u);
  EXPECT_EQ(reasons["unresolved placeholder"], 2u);
  EXPECT_EQ(report.errors.size(), 0u);
  EXPECT_EQ((*set)->rule_count(), report.loaded);
}

}  // namespace
