// SPDX-License-Identifier: Apache-2.0
/// Differential test: the Hyperscan scanner (atoms, trigger tables, always-evaluated set) against
/// the reference scanner (every rule on every event, atoms matched by plain code and RE2), over
/// the whole SigmaHQ set plus our pack, on real events: SigmaHQ's regression events and real
/// web access logs. Any difference is a bug in one of them.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "sluice/rules/rule_test.hpp"
#include "sluice/rules/sigma.hpp"
#include "tests_support.hpp"

namespace {

namespace fs = std::filesystem;

using Pairs = std::set<std::pair<std::uint32_t, std::uint32_t>>;

Pairs pairs(const std::vector<sluice::Detection>& d) {
  Pairs p;
  for (const auto& x : d)
    p.emplace(x.event_index, x.rule_index);
  return p;
}

TEST(SigmaDifferential, HyperscanScannerEqualsReference) {
  SLUICE_REQUIRE_DATA(sigma, "sigma");
  sluice::rules::SigmaOptions options;
  options.paths = {(sigma / "rules").string(), (sigma / "rules-emerging-threats").string(),
                   (sigma / "rules-threat-hunting").string(), sluice::rules::default_packs_path()};
  sluice::rules::LoadReport report;
  auto set = sluice::rules::load_sigma(options, report);
  ASSERT_TRUE(set.has_value()) << set.error().message;

  sluice::EventBatch batch(0, 4096);
  for (const auto& e : fs::recursive_directory_iterator(sigma / "regression_data")) {
    if (e.path().extension() != ".json") continue;
    ASSERT_TRUE(
        sluice::rules::add_json_events(sluice::test::read_file(e.path()), batch).has_value())
        << e.path();
  }
  const std::size_t json_events = batch.size();
  if (auto logs = sluice::test::data_path("logs/apache-http-logs")) {
    for (const char* name : {"acunetix.txt", "w3af.txt"}) {
      const auto lines = sluice::test::split_lines(sluice::test::read_file(*logs / name));
      for (const auto& line : lines) {
        sluice::Event& ev = batch.add_record(line, 0);
        ev.format = sluice::InputFormat::raw;
        ev.status = sluice::ParseStatus::parsed;
        ev.message = ev.raw;
      }
    }
  }
  ASSERT_GT(json_events, 100u);

  std::vector<sluice::Detection> fast, slow;
  (*set)->make_scanner()->scan(batch, fast);
  sluice::rules::make_reference_scanner(*set)->scan(batch, slow);
  const Pairs a = pairs(fast), b = pairs(slow);
  for (const auto& [e, r] : b)
    if (!a.count({e, r}))
      ADD_FAILURE() << "only the reference matches event " << e << " with " << (*set)->rule(r).path;
  for (const auto& [e, r] : a)
    if (!b.count({e, r}))
      ADD_FAILURE() << "only Hyperscan matches event " << e << " with " << (*set)->rule(r).path;
  std::printf("differential: %zu events, %zu rules, %zu detections, equal: %s\n", batch.size(),
              (*set)->rule_count(), a.size(), a == b ? "yes" : "no");
  EXPECT_GT(a.size(), 100u);
}

}  // namespace
