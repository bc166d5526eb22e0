// SPDX-License-Identifier: Apache-2.0
/// The three regex engines behind `|re` give the same detections on real Sigma regexes: every
/// SigmaHQ rule that uses `|re` (read in place) is loaded once per engine — Hyperscan alone,
/// Hyperscan prefilter (HS_FLAG_PREFILTER) confirmed by RE2, RE2 alone — and each set scans the
/// same events: SigmaHQ's regression events, and for every field a rule matches with `|re`, one
/// event per realistic value (every string value in those rules and every field value of the
/// regression events) in that field. Every rule applies to every event (a mapping with one
/// catch-all log source), so the regexes decide. The detections must be equal, and some must
/// exist.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "sluice/rules/rule_test.hpp"
#include "sluice/rules/sigma.hpp"
#include "tests_support.hpp"

namespace {

namespace fs = std::filesystem;

/// Field names used with `|re` and every string value, anywhere under `node`.
void collect(const YAML::Node& node, const std::string& key, std::set<std::string>& re_fields,
             std::set<std::string>& values) {
  if (node.IsMap()) {
    for (const auto& kv : node) {
      const std::string k = kv.first.as<std::string>("");
      if (k.find("|re") != std::string::npos) re_fields.insert(k.substr(0, k.find('|')));
      collect(kv.second, k, re_fields, values);
    }
  } else if (node.IsSequence()) {
    for (const auto& item : node)
      collect(item, key, re_fields, values);
  } else if (node.IsScalar()) {
    values.insert(node.as<std::string>(""));
  }
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

using Pairs = std::set<std::pair<std::uint32_t, std::string>>;

TEST(SigmaRegexEngines, RealSigmaRegexesGiveTheSameDetectionsOnEveryEngine) {
  SLUICE_REQUIRE_DATA(sigma, "sigma");
  // Every rule file with a `|re` modifier, and what it matches with it.
  std::vector<std::string> files;
  std::set<std::string> re_fields, values;
  for (const char* sub : {"rules", "rules-emerging-threats", "rules-threat-hunting"}) {
    for (const auto& e : fs::recursive_directory_iterator(sigma / sub)) {
      if (e.path().extension() != ".yml") continue;
      const std::string text = sluice::test::read_file(e.path());
      if (text.find("|re") == std::string::npos) continue;
      files.push_back(e.path().string());
      for (const auto& doc : YAML::LoadAll(text))
        if (doc["detection"]) collect(doc["detection"], "", re_fields, values);
    }
  }
  ASSERT_GT(files.size(), 100u);
  re_fields.erase("");

  // The regression events, and their field values as more realistic values.
  sluice::EventBatch regression(0, 4096);
  for (const auto& e : fs::recursive_directory_iterator(sigma / "regression_data")) {
    if (e.path().extension() != ".json") continue;
    ASSERT_TRUE(
        sluice::rules::add_json_events(sluice::test::read_file(e.path()), regression).has_value());
  }
  std::string events;
  for (const auto& ev : regression.events()) {
    events += std::string(ev.raw) + "\n";
    for (const auto& f : ev.fields)
      values.insert(std::string(f.value));
  }
  for (const auto& field : re_fields) {
    for (const auto& v : values) {
      events += '{';
      events += json_string(field);
      events += ':';
      events += json_string(v);
      events += "}\n";
    }
  }
  sluice::EventBatch batch(0, 1 << 16);
  ASSERT_TRUE(sluice::rules::add_json_events(events, batch).has_value());

  // One catch-all log source: every rule runs on every event, fields by their names.
  const sluice::test::TempDir dir;
  const fs::path mapping = dir.path() / "mapping.yml";
  std::ofstream(mapping) << "logsources:\n  - name: any\n    product: '*'\n    category: '*'\n"
                            "    service: '*'\n";

  struct Run {
    sluice::rules::RegexEngine engine;
    const char* name;
    sluice::rules::LoadReport report;
    Pairs detections;
  };
  Run runs[] = {{sluice::rules::RegexEngine::automatic, "Hyperscan", {}, {}},
                {sluice::rules::RegexEngine::prefilter, "Hyperscan prefilter + RE2", {}, {}},
                {sluice::rules::RegexEngine::re2, "RE2", {}, {}}};
  for (Run& run : runs) {
    sluice::rules::SigmaOptions options;
    options.paths = files;
    options.mapping_path = mapping.string();
    options.regex_engine = run.engine;
    auto set = sluice::rules::load_sigma(options, run.report);
    ASSERT_TRUE(set.has_value()) << set.error().message;
    EXPECT_TRUE(run.report.errors.empty());
    std::vector<sluice::Detection> d;
    (*set)->make_scanner()->scan(batch, d);
    for (const auto& x : d)
      run.detections.emplace(x.event_index,
                             (*set)->rule(x.rule_index).path + " " + (*set)->rule(x.rule_index).id);
    std::printf(
        "%-26s regexes: %zu Hyperscan, %zu prefilter + RE2, %zu RE2 alone; %zu rules, "
        "%zu detections\n",
        run.name, run.report.regexes_hyperscan, run.report.regexes_prefiltered,
        run.report.regexes_re2_only, run.report.loaded, run.detections.size());
  }
  std::printf("%zu rule files with |re, %zu fields, %zu values, %zu events\n", files.size(),
              re_fields.size(), values.size(), batch.size());

  // Each engine took the regexes it was given; the same rules loaded.
  const std::size_t total = runs[0].report.regexes_hyperscan + runs[0].report.regexes_prefiltered +
                            runs[0].report.regexes_re2_only;
  EXPECT_GT(total, 100u);
  EXPECT_GT(runs[0].report.regexes_hyperscan, 100u);
  EXPECT_GT(runs[1].report.regexes_prefiltered, 100u);
  EXPECT_GT(runs[2].report.regexes_re2_only, 100u);
  for (const Run& run : runs) {
    EXPECT_EQ(
        run.report.regexes_hyperscan + run.report.regexes_prefiltered + run.report.regexes_re2_only,
        total)
        << run.name;
    EXPECT_EQ(run.report.loaded, runs[0].report.loaded) << run.name;
  }
  // The same detections, and enough of them that the regexes were put to work.
  EXPECT_GT(runs[0].detections.size(), 50u);
  for (const Run& run : runs) {
    for (const auto& p : runs[0].detections)
      if (!run.detections.count(p))
        ADD_FAILURE() << run.name << " misses event " << p.first << " with " << p.second;
    for (const auto& p : run.detections)
      if (!runs[0].detections.count(p))
        ADD_FAILURE() << "only " << run.name << " matches event " << p.first << " with "
                      << p.second;
  }
}

}  // namespace
