// SPDX-License-Identifier: Apache-2.0
/// Index pruning as a query sees it over a store of several multi-block segments: a term in one
/// event leaves exactly one block to decode (segment token filters rule out the other segments
/// without reading their blocks' index areas), a corrupt index area is reported by the queries
/// that need that block and by no other, and a store of format-2 segments gives the same answers.
#include <gtest/gtest.h>

#include "../store/store_test_support.hpp"
#include "sluice/search/query.hpp"
#include "sluice/search/search.hpp"
#include "sluice/store/segment_index.hpp"
#include "tests_support.hpp"

namespace sluice::search {
namespace {

constexpr std::uint64_t events = 100'000;
constexpr std::uint64_t needle = 54'321;

/// 100,000 numbered events ("event <n> ") in 1 MiB segments: several segments of several blocks.
void write_store(const std::filesystem::path& dir, const std::string& codec = "zstd") {
  auto config = test::test_config(dir, 1 << 20);
  config.codec = codec;
  auto out = StoreOutput::open(config);
  ASSERT_TRUE(out) << out.error().message;
  for (std::uint64_t first = 0; first < events; first += 1000)
    ASSERT_TRUE(test::store_batch(**out, *test::numbered_batch(first, 1000)));
  ASSERT_TRUE((*out)->close());
}

AggregateResult run(const std::filesystem::path& dir, const std::string& text) {
  auto parsed = parse_query(text);
  EXPECT_TRUE(parsed.query) << text;
  QueryError err;
  auto compiled = CompiledQuery::compile(*parsed.query, err);
  EXPECT_TRUE(compiled) << err.message;
  auto r = aggregate(dir, *compiled, {});
  EXPECT_TRUE(r) << r.error().message;
  return *r;
}

/// The sealed segments of `dir` in order, opened with every index area checked.
std::vector<std::shared_ptr<const SegmentIndex>> segments(const std::filesystem::path& dir) {
  auto store = StoreIndex::open(dir);
  EXPECT_TRUE(store);
  EXPECT_TRUE(store->errors().empty());
  return store->segments();
}

TEST(SearchPruning, NeedleLeavesOneBlockAndSegmentFiltersSkipTheRest) {
  test::TempDir dir;
  write_store(dir.path());
  const auto segs = segments(dir.path());
  ASSERT_GE(segs.size(), 4u);
  std::uint64_t blocks = 0;
  for (const auto& s : segs) {
    ASSERT_TRUE(s->blocked());
    ASSERT_GE(s->blocks().size(), 2u);
    EXPECT_TRUE(s->has_segment_tokens());
    blocks += s->blocks().size();
  }
  const auto r = run(dir.path(), std::to_string(needle) + " | count");
  EXPECT_EQ(r.count, 1u);
  EXPECT_TRUE(r.stats.errors.empty());
  EXPECT_EQ(r.stats.units, blocks);
  EXPECT_EQ(r.stats.units_pruned_index, blocks - 1);
  EXPECT_LE(r.stats.events_scanned, block_max_events);
  // A term in no event: nothing is decoded.
  const auto none = run(dir.path(), "zk_incident | count");
  EXPECT_EQ(none.count, 0u);
  EXPECT_EQ(none.stats.units_pruned_index, blocks);
  EXPECT_EQ(run(dir.path(), "event | count").count, events);
}

TEST(SearchPruning, CorruptIndexAreaIsReportedByTheQueriesThatReadIt) {
  test::TempDir dir;
  write_store(dir.path());
  const auto segs = segments(dir.path());
  // The first segment holds neither the needle nor its neighbours; damage its first block's
  // index area (it starts right after the header).
  ASSERT_LT(segs[0]->header().record_count, needle);
  const auto victim = segs[0]->path();
  const std::uint32_t victim_events = segs[0]->blocks()[0].events;
  {
    std::string bytes = test::read_file(victim);
    bytes[segment_header_bytes + 2] ^= 0x04;
    std::ofstream(victim, std::ios::binary | std::ios::trunc).write(bytes.data(), bytes.size());
  }
  // The needle query never reads that index area: no error, the right answer.
  const auto needle_count = run(dir.path(), std::to_string(needle) + " | count");
  EXPECT_EQ(needle_count.count, 1u);
  EXPECT_TRUE(needle_count.stats.errors.empty());
  // A query over every block reports it, once, and counts every other event.
  for (const char* q : {"| count", "event | count", "| count by host"}) {
    const auto all = run(dir.path(), q);
    ASSERT_EQ(all.stats.errors.size(), 1u) << q;
    EXPECT_EQ(all.stats.errors[0].path, victim);
    EXPECT_NE(all.stats.errors[0].message.find("block 0 (sequences 0..4095): index area CRC32C "
                                               "mismatch"),
              std::string::npos)
        << all.stats.errors[0].message;
    EXPECT_EQ(all.count, events - victim_events) << q;
  }
  // A term of the damaged block itself: reported, not counted.
  const auto in_victim = run(dir.path(), "17 | count");
  EXPECT_EQ(in_victim.count, 0u);
  EXPECT_EQ(in_victim.stats.errors.size(), 1u);
}

TEST(SearchPruning, FormatTwoStoreGivesTheSameAnswers) {
  test::TempDir dir;
  write_store(dir.path());
  const auto segs = segments(dir.path());
  std::vector<std::filesystem::path> files;
  for (const auto& s : segs)
    files.push_back(s->path());
  const std::vector<std::string> queries = {std::to_string(needle) + " | count", "event | count",
                                            "/event 9+ / | count", "| count by host",
                                            "zk_incident | count"};
  std::vector<std::uint64_t> want;
  for (const auto& q : queries)
    want.push_back(run(dir.path(), q).count);
  for (const auto& f : files)
    ASSERT_TRUE(test::downgrade_blocked_to_format_2(f));
  for (const auto& s : segments(dir.path())) {
    EXPECT_EQ(s->header().version, 2u);
    EXPECT_FALSE(s->has_segment_tokens());
  }
  for (std::size_t i = 0; i < queries.size(); ++i) {
    const auto r = run(dir.path(), queries[i]);
    EXPECT_EQ(r.count, want[i]) << queries[i];
    EXPECT_TRUE(r.stats.errors.empty()) << queries[i];
  }
  EXPECT_EQ(run(dir.path(), std::to_string(needle) + " | count").stats.units_pruned_index,
            run(dir.path(), "event | count").stats.units - 1);
}

TEST(SearchPruning, Lz4StoreGivesTheSameAnswers) {
  test::TempDir zstd_dir, lz4_dir;
  write_store(zstd_dir.path());
  write_store(lz4_dir.path(), "lz4");
  const std::vector<std::string> queries = {std::to_string(needle) + " | count",
                                            "event | count",
                                            "/event 9+ / | count",
                                            "/EVENT [0-9]*7 / | count",
                                            "| count by host",
                                            "zk_incident | count",
                                            "NOT 17 | count"};
  for (const auto& q : queries) {
    const auto a = run(zstd_dir.path(), q);
    const auto b = run(lz4_dir.path(), q);
    EXPECT_EQ(a.count, b.count) << q;
    EXPECT_EQ(a.stats.units_pruned_index, b.stats.units_pruned_index) << q;
    EXPECT_TRUE(b.stats.errors.empty()) << q;
  }
  // 9, 99, 999, 9999 and 99999.
  EXPECT_EQ(run(lz4_dir.path(), "/event 9+ / | count").count, 5u);
}

}  // namespace
}  // namespace sluice::search
