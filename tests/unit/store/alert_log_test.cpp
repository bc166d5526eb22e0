// SPDX-License-Identifier: Apache-2.0
/// Alerts stored beside events: `StoreOutput` turns each detection into an alert record whose
/// event sequence leads back to the stored event, across batches, restarts and events that could
/// not be stored; the alert log survives a corrupt record.
#include "sluice/store/alert_log.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "sluice/store/segment_index.hpp"
#include "store_test_support.hpp"
#include "tests_support.hpp"

namespace sluice {
namespace {

using test::numbered_batch;
using test::read_store;
using test::test_config;

/// A fixed rule table: the rule set is the input here, as a parsed Sigma file would be.
class TableRules final : public RuleSet {
 public:
  TableRules() {
    rules_.resize(2);
    rules_[0].id = "5d2c7a1e-0000-4000-8000-000000000001";
    rules_[0].title = "SSH brute force";
    rules_[0].level = "high";
    rules_[0].attack_techniques = {"T1110", "T1110.001"};
    rules_[1].id = "rule-two";
    rules_[1].title = "Odd event";
    rules_[1].level = "low";
  }
  std::size_t rule_count() const override { return rules_.size(); }
  const RuleInfo& rule(std::uint32_t i) const override { return rules_.at(i); }
  std::unique_ptr<RuleScanner> make_scanner() const override { return nullptr; }

 private:
  std::vector<RuleInfo> rules_;
};

struct OwnedAlert {
  std::uint64_t sequence;
  std::int64_t event_time_ns, receive_time_ns;
  std::string rule_id, title, level;
  std::vector<std::string> techniques;
  std::vector<std::pair<std::string, std::string>> matched;
  std::vector<std::uint64_t> events;
};

std::vector<OwnedAlert> read_alerts(const std::filesystem::path& dir,
                                    ScanReport* report = nullptr) {
  std::vector<OwnedAlert> out;
  auto reader = AlertReader::open(dir);
  EXPECT_TRUE(reader) << reader.error().message;
  if (!reader) return out;
  Arena arena;
  auto r = reader->for_each(arena, [&](const StoredAlert& a) {
    OwnedAlert o{a.sequence,
                 a.event_time_ns,
                 a.receive_time_ns,
                 std::string(a.rule_id),
                 std::string(a.title),
                 std::string(a.level),
                 {},
                 {},
                 {}};
    for (auto t : a.attack_techniques)
      o.techniques.emplace_back(t);
    for (const auto& f : a.matched)
      o.matched.emplace_back(f.name, f.value);
    o.events.assign(a.event_sequences.begin(), a.event_sequences.end());
    out.push_back(std::move(o));
    return true;
  });
  if (report != nullptr) *report = r;
  return out;
}

Result<void> write_with_detections(StoreOutput& out, const EventBatch& batch,
                                   const std::vector<Detection>& detections, const RuleSet& rules) {
  std::string bytes;
  out.render(batch, detections, &rules, bytes);
  return out.write(bytes);
}

TEST(AlertLog, DetectionsBecomeAlertsThatLeadToTheirEvents) {
  test::TempDir dir;
  TableRules rules;
  {
    auto out = StoreOutput::open(test_config(dir.path(), 4096));
    ASSERT_TRUE(out) << out.error().message;
    // Batch 1: events 0..9, alerts on events 3 (two rules) and 9.
    std::vector<Detection> d1 = {{3, 0, {{"user.name", "root"}}}, {3, 1, {}}, {9, 0, {}}};
    ASSERT_TRUE(write_with_detections(**out, *numbered_batch(0, 10), d1, rules));
    // Batch 2: no alerts; batch 3: events 20..29, alert on its event 5 (sequence 25).
    ASSERT_TRUE(write_with_detections(**out, *numbered_batch(10, 10), {}, rules));
    ASSERT_TRUE(write_with_detections(**out, *numbered_batch(20, 10), {{5, 0, {}}}, rules));
    EXPECT_EQ((*out)->alerts_written().value(), 4u);
    EXPECT_NE((*out)->summary().find(", 4 alerts"), std::string::npos) << (*out)->summary();
    // Readable while the writer is open.
    EXPECT_EQ(read_alerts(dir.path()).size(), 4u);
  }
  const auto alerts = read_alerts(dir.path());
  ASSERT_EQ(alerts.size(), 4u);
  EXPECT_EQ(alerts[0].sequence, 0u);
  EXPECT_EQ(alerts[0].rule_id, "5d2c7a1e-0000-4000-8000-000000000001");
  EXPECT_EQ(alerts[0].title, "SSH brute force");
  EXPECT_EQ(alerts[0].level, "high");
  EXPECT_EQ(alerts[0].techniques, (std::vector<std::string>{"T1110", "T1110.001"}));
  EXPECT_EQ(alerts[0].matched.size(), 1u);
  EXPECT_EQ(alerts[0].matched[0].second, "root");
  EXPECT_EQ(alerts[1].rule_id, "rule-two");
  EXPECT_TRUE(alerts[1].techniques.empty());
  EXPECT_EQ(alerts[3].sequence, 3u);
  // Every alert's event sequence is the event it was raised on, with the same event time.
  const auto events = read_store(dir.path());
  const std::vector<std::uint64_t> want = {3, 3, 9, 25};
  for (std::size_t i = 0; i < alerts.size(); ++i) {
    ASSERT_EQ(alerts[i].events, std::vector<std::uint64_t>{want[i]});
    const auto& e = events.events.at(want[i]);
    EXPECT_EQ(e.line, want[i]);
    EXPECT_EQ(alerts[i].event_time_ns, e.event_time_ns);
    EXPECT_EQ(alerts[i].receive_time_ns, e.receive_time_ns);
  }
  // The block index finds the alert's event by sequence without a full scan.
  auto store = StoreIndex::open(dir.path());
  ASSERT_TRUE(store);
  bool found = false;
  for (const auto& seg : store->segments())
    for (std::size_t b = 0; b < seg->blocks().size(); ++b) {
      const BlockInfo& block = seg->blocks()[b];
      if (25 < block.first_sequence || 25 >= block.first_sequence + block.events) continue;
      BlockScratch scratch;
      auto decoded = seg->decode(b, scratch);
      ASSERT_TRUE(decoded);
      EXPECT_EQ((*decoded)[25 - block.first_sequence].event.raw, "event 25 ");
      found = true;
    }
  EXPECT_TRUE(found);
}

TEST(AlertLog, SequencesContinueAcrossRestartsAndSkippedEvents) {
  test::TempDir dir;
  TableRules rules;
  {
    auto out = StoreOutput::open(test_config(dir.path(), 4096));
    ASSERT_TRUE(out);
    ASSERT_TRUE(write_with_detections(**out, *numbered_batch(0, 10), {{0, 0, {}}}, rules));
  }
  {
    auto out = StoreOutput::open(test_config(dir.path(), 4096));
    ASSERT_TRUE(out);
    // Alert log recovered at open; the next alert is number 1, its event sequence 10 + 4.
    ASSERT_TRUE(write_with_detections(**out, *numbered_batch(10, 10), {{4, 1, {}}}, rules));
    // Out-of-range detections are ignored, not stored.
    ASSERT_TRUE(
        write_with_detections(**out, *numbered_batch(20, 2), {{7, 0, {}}, {0, 9, {}}}, rules));
  }
  const auto alerts = read_alerts(dir.path());
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[1].sequence, 1u);
  EXPECT_EQ(alerts[1].events, std::vector<std::uint64_t>{14});
  // Without a rule set, detections are not turned into alerts.
  {
    auto out = StoreOutput::open(test_config(dir.path(), 4096));
    std::string bytes;
    std::vector<Detection> d = {{0, 0, {}}};
    (*out)->render(*numbered_batch(22, 1), d, nullptr, bytes);
    ASSERT_TRUE((*out)->write(bytes));
    EXPECT_EQ((*out)->alerts_written().value(), 0u);
  }
}

TEST(AlertLog, WriteRejectsBytesRenderDidNotMake) {
  test::TempDir dir;
  auto out = StoreOutput::open(test_config(dir.path(), 4096));
  ASSERT_TRUE(out);
  std::string bytes;
  (*out)->render(*numbered_batch(0, 2), {}, nullptr, bytes);
  auto bad = (*out)->write(std::string_view(bytes).substr(0, bytes.size() - 1));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("did not produce"), std::string::npos);
  EXPECT_TRUE((*out)->write(bytes));
}

TEST(AlertLog, CorruptAlertIsReportedAndTheRestRead) {
  test::TempDir dir;
  TableRules rules;
  {
    auto out = StoreOutput::open(test_config(dir.path(), 4096));
    ASSERT_TRUE(out);
    std::vector<Detection> d;
    for (std::uint32_t i = 0; i < 10; ++i)
      d.push_back({i, 0, {}});
    ASSERT_TRUE(write_with_detections(**out, *numbered_batch(0, 10), d, rules));
  }
  auto reader = AlertReader::open(dir.path());
  ASSERT_TRUE(reader);
  ASSERT_EQ(reader->segments().size(), 1u);
  const auto file = reader->segments()[0];
  {
    // Flip a byte in the payload of the sixth record.
    std::string bytes = test::read_file(file);
    std::size_t off = segment_header_bytes;
    for (int i = 0; i < 5; ++i) {
      std::uint32_t len;
      std::memcpy(&len, bytes.data() + off, 4);
      off += framed_record_bytes(len);
    }
    bytes[off + record_frame_bytes + 20] ^= 1;
    std::ofstream(file, std::ios::binary | std::ios::trunc).write(bytes.data(), bytes.size());
  }
  ScanReport report;
  const auto alerts = read_alerts(dir.path(), &report);
  EXPECT_EQ(alerts.size(), 5u);
  ASSERT_EQ(report.errors.size(), 1u);
  EXPECT_NE(report.errors[0].message.find("CRC32C mismatch"), std::string::npos);
  // A store with no alert folder has no alerts and no error.
  test::TempDir empty;
  ScanReport none;
  EXPECT_TRUE(read_alerts(empty.path(), &none).empty());
  EXPECT_TRUE(none.errors.empty());
}

TEST(AlertLog, HandlerAlertsKeepKindTimesCountGroupAndDetailsBesideOldRecords) {
  test::TempDir dir;
  TableRules rules;
  auto out = StoreOutput::open(test_config(dir.path(), 4096));
  ASSERT_TRUE(out) << out.error().message;
  // A detection record as StoreOutput writes it without a handler (no extension) ...
  ASSERT_TRUE(write_with_detections(**out, *numbered_batch(0, 10), {{3, 0, {}}}, rules));
  // ... then, with the alert log as a handler sink, render stores no detection alerts itself.
  (*out)->set_detection_alerts(false);
  ASSERT_TRUE(write_with_detections(**out, *numbered_batch(10, 10), {{4, 0, {}}}, rules));
  // A correlation alert over two stored events and one in a file (not a store reference), and
  // an anomaly alert with no event at all, through the sink interface.
  Alert corr;
  corr.kind = "correlation";
  corr.rule_id = "c-1";
  corr.rule_title = "Brute force";
  corr.rule_name = "brute_force";
  corr.correlation_type = "event_count";
  corr.severity = "high";
  corr.tags = {"attack.credential-access", "attack.t1110.001"};
  corr.group = {{"src_ip", "203.0.113.5"}};
  corr.first_ns = 1'000;
  corr.last_ns = 9'000;
  corr.count = 3;
  corr.refs = {EventRef::store(2), EventRef::line(0, 7), EventRef::store(5)};
  corr.assign_id();
  Alert anomaly;
  anomaly.kind = "anomaly";
  anomaly.rule_id = "19387c2c-61fe-4177-93e3-94de2796b815";
  anomaly.rule_title = "Log template never seen in the baseline";
  anomaly.rule_name = "anomaly_new_template";
  anomaly.severity = "low";
  anomaly.group = {{"host", "web01"}};
  anomaly.first_ns = 60'000'000'000;
  anomaly.last_ns = 120'000'000'000;
  anomaly.count = 42;
  anomaly.details = {{"sluice.anomaly.score", "3"}, {"sluice.anomaly.templates", "[{\"id\":7}]"}};
  anomaly.assign_id();
  auto sink = (*out)->alert_sink();
  EXPECT_EQ(sink->describe(), (*out)->describe() + "/alerts");
  ASSERT_TRUE(sink->send(corr, corr.to_json()));
  ASSERT_TRUE(sink->send(anomaly, anomaly.to_json()));
  EXPECT_EQ((*out)->alerts_written().value(), 3u);

  auto reader = AlertReader::open(dir.path());
  ASSERT_TRUE(reader);
  Arena arena;
  std::vector<std::string> seen;
  const auto report = reader->for_each(arena, [&](const StoredAlert& a) -> bool {
    if (a.sequence == 0) {
      // The old layout reads as a detection of one event.
      EXPECT_TRUE(a.kind.empty());
      EXPECT_EQ(a.count, 1u);
      EXPECT_EQ(a.last_time_ns, a.event_time_ns);
      EXPECT_EQ(std::vector<std::uint64_t>(a.event_sequences.begin(), a.event_sequences.end()),
                std::vector<std::uint64_t>{3});
    } else if (a.sequence == 1) {
      EXPECT_EQ(a.kind, "correlation");
      EXPECT_EQ(a.alert_id, corr.id);
      EXPECT_EQ(a.rule_id, "c-1");
      EXPECT_EQ(a.title, "Brute force");
      EXPECT_EQ(a.rule_name, "brute_force");
      EXPECT_EQ(a.correlation_type, "event_count");
      EXPECT_EQ(a.level, "high");
      EXPECT_EQ(a.event_time_ns, 1'000);
      EXPECT_EQ(a.last_time_ns, 9'000);
      EXPECT_EQ(a.count, 3u);
      // Only store references become event sequences.
      EXPECT_EQ(std::vector<std::uint64_t>(a.event_sequences.begin(), a.event_sequences.end()),
                (std::vector<std::uint64_t>{2, 5}));
      EXPECT_EQ(a.attack_techniques.size(), 1u);
      if (a.attack_techniques.size() != 1u) return false;
      EXPECT_EQ(a.attack_techniques[0], "T1110.001");
      EXPECT_EQ(a.matched.size(), 1u);
      if (a.matched.size() != 1u) return false;
      EXPECT_EQ(a.matched[0].name, "src_ip");
      EXPECT_EQ(a.matched[0].value, "203.0.113.5");
      EXPECT_TRUE(a.details.empty());
    } else {
      EXPECT_EQ(a.kind, "anomaly");
      EXPECT_EQ(a.alert_id, anomaly.id);
      EXPECT_EQ(a.event_time_ns, 60'000'000'000);
      EXPECT_EQ(a.last_time_ns, 120'000'000'000);
      EXPECT_EQ(a.count, 42u);
      EXPECT_TRUE(a.event_sequences.empty());
      EXPECT_EQ(a.details.size(), 2u);
      if (a.details.size() != 2u) return false;
      EXPECT_EQ(a.details[1].name, "sluice.anomaly.templates");
      EXPECT_EQ(a.details[1].value, "[{\"id\":7}]");
    }
    seen.emplace_back(a.kind);
    return true;
  });
  EXPECT_TRUE(report.errors.empty());
  EXPECT_EQ(seen, (std::vector<std::string>{"", "correlation", "anomaly"}));
}

}  // namespace
}  // namespace sluice
