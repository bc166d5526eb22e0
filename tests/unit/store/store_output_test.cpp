// SPDX-License-Identifier: Apache-2.0
/// StoreOutput end to end: render + write, then the reader; rolling, retention, counters and the
/// real Loghub Linux lines read back identical (store write against read-back, STYLE.md §6).
#include "sluice/store/store_output.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>

#include "sluice/parse/parser.hpp"
#include "sluice/store/segment_format.hpp"
#include "sluice/store/segment_index.hpp"
#include "store_test_support.hpp"
#include "tests_support.hpp"

namespace sluice {
namespace {

using test::numbered_batch;
using test::OwnedEvent;
using test::read_store;
using test::store_batch;
using test::test_config;

std::size_t count_segments(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    n += parse_segment_file_name(e.path().filename().string()).has_value();
  return n;
}

TEST(StoreOutput, RoundTripsEveryField) {
  test::TempDir dir;
  auto batch = std::make_unique<EventBatch>(3);
  batch->set_source_path("/var/log/auth.log");
  std::vector<OwnedEvent> expected;

  // A fully parsed event with views into raw, a literal (rewritten) value and a v6 peer.
  {
    Event& e = batch->add_record("<38>1 2026-11-28T06:55:46Z host app 42 ID7 [a b=\"c\"] msg x=1",
                                 1'764'312'946'500'000'000);
    e.event_time_ns = 1'764'312'946'000'000'000;
    e.line = 17;
    const std::uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    e.peer = PeerAddress::ipv6(v6, 514);
    e.facility = 4;
    e.severity = 6;
    e.format = InputFormat::rfc5424;
    e.status = ParseStatus::parsed;
    e.flags = event_flag_invalid_utf8 | event_flag_truncated;
    e.tz_offset_minutes = -330;
    e.template_id = 7;
    e.host = e.raw.substr(27, 4);
    e.app = e.raw.substr(32, 3);
    e.procid = e.raw.substr(36, 2);
    e.msgid = e.raw.substr(39, 3);
    e.structured_data = e.raw.substr(43, 9);
    e.message = e.raw.substr(53);
    auto fields = batch->arena().allocate_array<Field>(3);
    fields[0] = {"a.b", batch->arena().copy("c")};  // literal: not in raw
    fields[1] = {e.raw.substr(57, 1), e.raw.substr(59, 1)};
    fields[2] = {"empty", {}};
    e.fields = fields;
  }
  // Unparsed, binary bytes (NUL, 0xFF), IPv4 peer, negative times.
  {
    const std::string bin("\x00\xff\x01 bin\r\n\x00", 10);
    Event& e = batch->add_record(bin, -5);
    e.event_time_ns = -1'000'000'000'000;
    e.peer = PeerAddress::ipv4(0x0A000001, 65535);
    e.status = ParseStatus::unparsed;
    e.reason = UnparsedReason::bad_priority;
    e.format = InputFormat::unknown;
  }
  // Empty raw and every view empty; default facility/severity.
  batch->add_record("", 0);
  // Many fields, with names and values that overlap raw and ones that do not.
  {
    std::string raw;
    for (int i = 0; i < 300; ++i)
      raw += "k" + std::to_string(i) + "=v" + std::to_string(i) + " ";
    Event& e = batch->add_record(raw, 123);
    e.event_time_ns = INT64_MAX;
    e.receive_time_ns = INT64_MIN;  // wrapping delta
    e.line = UINT64_MAX;
    e.listener_id = UINT32_MAX;
    e.template_id = UINT32_MAX;
    e.format = InputFormat::raw;
    e.status = ParseStatus::parsed;
    auto fields = batch->arena().allocate_array<Field>(600);
    for (int i = 0; i < 600; ++i)
      fields[i] = {batch->arena().copy("name" + std::to_string(i)),
                   i % 2 ? e.raw.substr(i, 3) : batch->arena().copy(std::string(i % 7, '\xee'))};
    e.fields = fields;
  }
  for (const auto& e : batch->events())
    expected.push_back(OwnedEvent::from(e, "/var/log/auth.log"));

  {
    auto out = StoreOutput::open(test_config(dir.path(), 1 << 20));
    ASSERT_TRUE(out) << out.error().message;
    std::string bytes;
    EXPECT_EQ((*out)->render(*batch, {}, nullptr, bytes), 4u);
    ASSERT_TRUE((*out)->write(bytes));
    ASSERT_TRUE((*out)->flush());
    EXPECT_EQ((*out)->describe(), "store:" + dir.path().string());
    EXPECT_EQ((*out)->counters().events_written.value(), 4u);
    EXPECT_EQ((*out)->counters().bytes_written.value(), bytes.size() - 8);  // not the trailer
    // Read from the active record log while the writer is open ...
    auto live = read_store(dir.path());
    EXPECT_TRUE(live.report.errors.empty());
    ASSERT_EQ(live.events.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i)
      EXPECT_EQ(live.events[i], expected[i]) << "event " << i << " from the record log";
  }
  // ... and from the sealed blocks after it closed.
  EXPECT_TRUE(StoreIndex::open(dir.path())->segments().at(0)->blocked());
  auto back = read_store(dir.path());
  EXPECT_TRUE(back.report.errors.empty());
  ASSERT_EQ(back.events.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(back.events[i], expected[i]) << "event " << i;
    EXPECT_EQ(back.sequences[i], i);
  }
}

TEST(StoreOutput, RollsBySizeAndNeverSplitsARecord) {
  test::TempDir dir;
  {
    auto out = StoreOutput::open(test_config(dir.path(), 1024));
    ASSERT_TRUE(out) << out.error().message;
    for (std::uint64_t b = 0; b < 20; ++b)
      ASSERT_TRUE(store_batch(**out, *numbered_batch(b * 10, 10)));
    // One record larger than a whole segment still goes in, alone in a bigger segment.
    ASSERT_TRUE(store_batch(**out, *numbered_batch(200, 1, 5000)));
    ASSERT_TRUE(store_batch(**out, *numbered_batch(201, 9)));
    EXPECT_GT((*out)->counters().segments_created.value(), 5u);
    const auto& c = (*out)->counters();
    EXPECT_EQ(c.segments_sealed.value(), c.segments_created.value() - 1);  // all but the active
    EXPECT_EQ(c.blocks_sealed.value(), c.segments_sealed.value());  // small segments: one block
    EXPECT_EQ((*out)->summary(),
              fmt::format("210 events in {} segments, {} bytes; sealed: {} blocks, {:.3f} bytes "
                          "stored per raw byte",
                          (*out)->writer().stats().segments, (*out)->writer().stats().bytes,
                          c.blocks_sealed.value(),
                          static_cast<double>(c.sealed_bytes.value()) /
                              static_cast<double>(c.sealed_raw_bytes.value())));
  }
  EXPECT_GT(count_segments(dir.path()), 5u);
  auto back = read_store(dir.path());
  EXPECT_TRUE(back.report.errors.empty());
  ASSERT_EQ(back.events.size(), 210u);
  for (std::size_t i = 0; i < 210; ++i) {
    EXPECT_EQ(back.events[i].line, i);
    EXPECT_EQ(back.sequences[i], i);
  }
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    if (e.path().filename() == "LOCK") continue;
    auto seq = parse_segment_file_name(e.path().filename().string());
    ASSERT_TRUE(seq) << e.path();
    // Sealed files hold whole records only: none is larger than the segment size unless it
    // is the one oversized record.
    if (std::filesystem::file_size(e.path()) > 1024) {
      EXPECT_EQ(*seq, 200u);
    }
  }
}

TEST(StoreOutput, RollsByAge) {
  test::TempDir dir;
  std::int64_t now = 1'800'000'000'000'000'000;
  auto config = test_config(dir.path(), 1 << 20);
  config.max_segment_age_seconds = 60;
  auto out = StoreOutput::open(config);
  ASSERT_TRUE(out) << out.error().message;
  (*out)->writer().set_clock([&] { return now; });
  ASSERT_TRUE(store_batch(**out, *numbered_batch(0, 5)));
  now += 59'000'000'000;
  ASSERT_TRUE(store_batch(**out, *numbered_batch(5, 5)));
  EXPECT_EQ((*out)->counters().segments_created.value(), 1u);
  now += 1'000'000'000;
  ASSERT_TRUE((*out)->flush());  // an idle store seals an aged segment from flush
  EXPECT_EQ((*out)->writer().stats().segments, 1u);
  ASSERT_TRUE(store_batch(**out, *numbered_batch(10, 5)));
  EXPECT_EQ((*out)->counters().segments_created.value(), 2u);
  now += 61'000'000'000;
  ASSERT_TRUE(store_batch(**out, *numbered_batch(15, 5)));  // rolls before appending
  EXPECT_EQ((*out)->counters().segments_created.value(), 3u);
  ASSERT_TRUE((*out)->close());
  EXPECT_EQ(count_segments(dir.path()), 3u);
  EXPECT_EQ(read_store(dir.path()).events.size(), 20u);
}

TEST(StoreOutput, RetentionBySizeDeletesOldestFirst) {
  test::TempDir dir;
  auto config = test_config(dir.path(), 1024);
  config.max_total_bytes = 4096;
  auto out = StoreOutput::open(config);
  ASSERT_TRUE(out) << out.error().message;
  for (std::uint64_t b = 0; b < 50; ++b)
    ASSERT_TRUE(store_batch(**out, *numbered_batch(b * 10, 10)));
  ASSERT_TRUE((*out)->close());
  const auto& c = (*out)->counters();
  EXPECT_GT(c.segments_deleted.value(), 0u);
  std::uint64_t total = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path()))
    total += std::filesystem::file_size(e.path());
  EXPECT_LE(total, 4096u);
  auto back = read_store(dir.path());
  // What is left is the newest events, contiguous up to the last, and the counts add up.
  ASSERT_FALSE(back.events.empty());
  EXPECT_EQ(back.events.back().line, 499u);
  for (std::size_t i = 1; i < back.events.size(); ++i)
    EXPECT_EQ(back.events[i].line, back.events[i - 1].line + 1);
  EXPECT_EQ(back.events.size() + c.events_deleted.value(), 500u);
  EXPECT_EQ(back.sequences.front(), c.events_deleted.value());
}

TEST(StoreOutput, RetentionByAgeUsesNewestEventTime) {
  test::TempDir dir;
  auto config = test_config(dir.path(), 1024);
  config.max_age_seconds = 100;
  // numbered_batch: event k happens at base + k s.
  const std::int64_t base = 1'700'000'000'000'000'000;
  std::int64_t now = base;
  {
    auto out = StoreOutput::open(config);
    ASSERT_TRUE(out) << out.error().message;
    (*out)->writer().set_clock([&] { return now; });
    for (std::uint64_t b = 0; b < 30; ++b)
      ASSERT_TRUE(store_batch(**out, *numbered_batch(b * 10, 10)));
    EXPECT_EQ((*out)->counters().segments_deleted.value(), 0u);
    // At base + 250 s, segments whose newest event is before base + 150 s go.
    now = base + 250'000'000'000;
    ASSERT_TRUE((*out)->close());
    const auto deleted = (*out)->counters().events_deleted.value();
    EXPECT_GT(deleted, 0u);
    auto back = read_store(dir.path());
    ASSERT_FALSE(back.events.empty());
    EXPECT_EQ(back.events.size() + deleted, 300u);
    // Every deleted segment was entirely too old; the oldest kept one was not.
    EXPECT_LT(deleted - 1, 150u);
    EXPECT_GE(back.events.front().line + 100, 150u);
  }
  // Retention also runs at open, from the sealed headers.
  now = base + 1'000'000'000'000;
  {
    auto out = StoreOutput::open(config);
    ASSERT_TRUE(out);
    EXPECT_EQ(read_store(dir.path()).events.size(), 0u);
  }
  // Every segment is gone, yet numbering goes on where it stopped.
  config.max_age_seconds = 0;
  auto out = StoreOutput::open(config);
  ASSERT_TRUE(out);
  ASSERT_TRUE(store_batch(**out, *numbered_batch(300, 2)));
  ASSERT_TRUE((*out)->close());
  auto back = read_store(dir.path());
  ASSERT_EQ(back.sequences.size(), 2u);
  EXPECT_EQ(back.sequences[0], 300u);
}

TEST(StoreOutput, RegistersCountersAndRejectsBadConfig) {
  test::TempDir dir;
  auto out = StoreOutput::open(test_config(dir.path(), 4096));
  ASSERT_TRUE(out);
  MetricsRegistry registry;
  (*out)->register_metrics(registry);
  ASSERT_TRUE(store_batch(**out, *numbered_batch(0, 3)));
  EXPECT_EQ(registry.value("sluice_store_events_written_total"), 3.0);
  EXPECT_EQ(registry.value("sluice_store_segments_created_total"), 1.0);
  const auto text = registry.prometheus_text();
  for (const char* name :
       {"sluice_store_bytes_written_total", "sluice_store_segments_deleted_total",
        "sluice_store_recovered_bytes_total", "sluice_store_fsyncs_total"})
    EXPECT_NE(text.find(name), std::string::npos) << name;
  EXPECT_EQ(registry.value("sluice_store_compression_ratio"), 0.0);  // nothing sealed yet
  ASSERT_TRUE((*out)->close());
  EXPECT_EQ(registry.value("sluice_store_segments_sealed_total"), 1.0);
  EXPECT_EQ(registry.value("sluice_store_blocks_sealed_total"), 1.0);
  const double ratio = registry.value("sluice_store_compression_ratio");
  EXPECT_GT(ratio, 0.0);
  EXPECT_EQ(ratio, registry.value("sluice_store_sealed_bytes_total") /
                       registry.value("sluice_store_sealed_raw_bytes_total"));
  EXPECT_EQ(registry.value("sluice_store_sealed_raw_bytes_total"), 3.0 * 8);  // "event N "
  EXPECT_EQ(registry.value("sluice_store_alerts_written_total"), 0.0);
  EXPECT_EQ(registry.value("sluice_store_seal_failures_total"), 0.0);

  auto config = test_config(dir.path() / "other", 4096);
  config.fsync = "sometimes";
  auto bad = StoreOutput::open(config);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("fsync"), std::string::npos);
  config = test_config(dir.path() / "other", 4096);
  config.compression_level = 0;
  bad = StoreOutput::open(config);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("compression_level"), std::string::npos);
  config = test_config(dir.path() / "other", 4096);
  config.codec = "lz5";
  bad = StoreOutput::open(config);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("codec must be \"zstd\" or \"lz4\", got \"lz5\""),
            std::string::npos)
      << bad.error().message;
  config = test_config("/proc/no/such/store", 4096);
  bad = StoreOutput::open(config);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("/proc/no/such/store"), std::string::npos);
}

TEST(StoreOutput, FsyncPoliciesCountSyncs) {
  for (const char* policy : {"batch", "interval", "none"}) {
    test::TempDir dir;
    auto config = test_config(dir.path(), 1 << 16);
    config.fsync = policy;
    config.fsync_interval_ms = 3'600'000;
    auto out = StoreOutput::open(config);
    ASSERT_TRUE(out) << out.error().message;
    for (int i = 0; i < 5; ++i)
      ASSERT_TRUE(store_batch(**out, *numbered_batch(i * 4, 4)));
    const auto syncs = (*out)->counters().fsyncs.value();
    if (std::string_view(policy) == "batch") {
      EXPECT_GE(syncs, 5u);
    }
    if (std::string_view(policy) == "interval") {
      EXPECT_LT(syncs, 5u);
    }
    if (std::string_view(policy) == "none") {
      EXPECT_EQ(syncs, 0u);
    }
  }
}

// Real Loghub lines, parsed as a worker would, stored and read back identical.
TEST(StoreOutput, LoghubLinuxRoundTrip) {
  SLUICE_REQUIRE_DATA(path, "loghub/Linux/Linux_2k.log");
  const auto lines = test::split_lines(test::read_file(path));
  ASSERT_EQ(lines.size(), 2000u);
  test::TempDir dir;
  Parser parser;
  std::vector<OwnedEvent> expected;
  {
    auto out = StoreOutput::open(test_config(dir.path(), 64 << 10));
    ASSERT_TRUE(out) << out.error().message;
    for (std::size_t first = 0; first < lines.size(); first += 512) {
      auto batch = std::make_unique<EventBatch>(1);
      batch->set_source_path(path.string());
      for (std::size_t i = first; i < std::min(lines.size(), first + 512); ++i) {
        Event& e = batch->add_record(lines[i], 1'770'724'800'000'000'000);
        e.line = i + 1;
        parser.parse(e, batch->arena());
        expected.push_back(OwnedEvent::from(e, path.string()));
      }
      ASSERT_TRUE(store_batch(**out, *batch));
    }
  }
  auto back = read_store(dir.path());
  EXPECT_TRUE(back.report.errors.empty());
  ASSERT_EQ(back.events.size(), expected.size());
  std::size_t with_fields = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(back.events[i], expected[i]) << "line " << i + 1;
    with_fields += !expected[i].fields.empty();
  }
  EXPECT_EQ(expected[0].status, ParseStatus::parsed);
  EXPECT_GT(with_fields, 0u);
}

}  // namespace
}  // namespace sluice
