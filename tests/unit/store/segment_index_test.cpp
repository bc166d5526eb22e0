// SPDX-License-Identifier: Apache-2.0
/// The block-level read API over sealed segments: blocks split where the format says, their
/// time ranges, dictionaries and code columns agree with the events, the token filter holds every
/// indexed token (and few others), parallel decoding equals serial decoding, damaged blocks and
/// footers are reported for that block or segment only, and format-1 segments still read.
#include "sluice/store/segment_index.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "sluice/store/crc32c.hpp"
#include "sluice/store/tokens.hpp"
#include "store_test_support.hpp"
#include "tests_support.hpp"

namespace sluice {
namespace {

using test::numbered_batch;
using test::OwnedEvent;
using test::read_store;
using test::store_batch;
using test::test_config;

/// Events spread over hosts, apps and two source paths, with a field value that is not in raw.
struct Written {
  std::vector<OwnedEvent> events;
};

Written write_varied(const std::filesystem::path& dir, std::size_t n, std::uint64_t segment_bytes,
                     const std::string& codec = "zstd") {
  Written w;
  auto config = test_config(dir, segment_bytes);
  config.codec = codec;
  auto out = StoreOutput::open(config);
  EXPECT_TRUE(out) << out.error().message;
  if (!out) return w;
  for (std::size_t first = 0; first < n; first += 500) {
    auto batch = std::make_unique<EventBatch>(1, 500);
    batch->set_source_path(first % 1000 == 0 ? "/var/log/Auth.log" : "/var/log/syslog");
    for (std::size_t i = first; i < std::min(n, first + 500); ++i) {
      const std::string host = "web" + std::to_string(i % 7);
      const std::string raw = "Nov 28 10:00:00 " + host + " sshd[" + std::to_string(i) +
                              "]: Failed password for user" + std::to_string(i % 13) +
                              " from 10.0.0." + std::to_string(i % 250);
      Event& e = batch->add_record(raw, 1'800'000'000'000'000'000);
      // Not monotonic: every 10th event is an hour early, so min/max are not first/last.
      e.event_time_ns = 1'700'000'000'000'000'000 + static_cast<std::int64_t>(i) * 1'000'000 -
                        (i % 10 == 0 ? 3'600'000'000'000 : 0);
      e.line = i + 1;
      e.template_id = static_cast<std::uint32_t>(i % 3);
      e.status = ParseStatus::parsed;
      e.format = InputFormat::rfc3164;
      e.host = e.raw.substr(16, host.size());
      e.app = e.raw.substr(17 + host.size(), 4);
      e.procid = e.raw.substr(22 + host.size(), std::to_string(i).size());
      e.message = e.raw.substr(e.raw.find("Failed"));
      auto fields = batch->arena().allocate_array<Field>(2);
      fields[0] = {"user.name",
                   e.raw.substr(e.raw.find("user"), 4 + std::to_string(i % 13).size())};
      fields[1] = {"geo", batch->arena().copy("Zone" + std::to_string(i % 5) + "-lit")};
      e.fields = fields;
      w.events.push_back(OwnedEvent::from(e, batch->source_path()));
    }
    EXPECT_TRUE(store_batch(**out, *batch));
  }
  EXPECT_TRUE((*out)->close());
  return w;
}

TEST(SegmentIndex, BlocksDescribeTheirEvents) {
  test::TempDir dir;
  constexpr std::size_t n = 10'000;
  const auto w = write_varied(dir.path(), n, 64 << 20);
  auto store = StoreIndex::open(dir.path());
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->errors().empty());
  ASSERT_EQ(store->segments().size(), 1u);
  const auto& seg = *store->segments()[0];
  ASSERT_TRUE(seg.blocked());
  EXPECT_EQ(seg.header().record_count, n);
  // 4096 events per block.
  ASSERT_EQ(seg.blocks().size(), 3u);
  BlockScratch scratch;
  std::uint64_t next = 0;
  for (std::size_t b = 0; b < seg.blocks().size(); ++b) {
    const BlockInfo& block = seg.blocks()[b];
    EXPECT_EQ(block.error, "");
    EXPECT_EQ(block.first_sequence, next);
    EXPECT_EQ(block.events, std::min<std::size_t>(block_max_events, n - next));
    std::int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (std::uint64_t i = next; i < next + block.events; ++i) {
      lo = std::min(lo, w.events[i].event_time_ns);
      hi = std::max(hi, w.events[i].event_time_ns);
    }
    EXPECT_EQ(block.min_event_ns, lo);
    EXPECT_EQ(block.max_event_ns, hi);
    EXPECT_EQ(block.hosts.size(), 7u);
    EXPECT_EQ(block.host_codes.width(), 1u);
    EXPECT_EQ(block.apps.size(), 1u);
    EXPECT_EQ(block.app_codes.width(), 0u);  // one app: no column
    EXPECT_EQ(block.source_paths.size(), 2u);
    // `count by host` from the code column alone agrees with the events.
    for (std::uint32_t i = 0; i < block.events; ++i) {
      const auto& want = w.events[next + i];
      ASSERT_EQ(block.hosts[block.host_codes[i]], want.host) << next + i;
      ASSERT_EQ(block.apps[block.app_codes[i]], want.app);
      ASSERT_EQ(block.source_paths[block.source_codes[i]], want.source_path);
    }
    auto events = seg.decode(b, scratch);
    ASSERT_TRUE(events) << events.error().message;
    ASSERT_EQ(events->size(), block.events);
    for (std::uint32_t i = 0; i < block.events; ++i) {
      EXPECT_EQ((*events)[i].sequence, next + i);
      ASSERT_EQ(OwnedEvent::from((*events)[i].event, (*events)[i].source_path), w.events[next + i])
          << "event " << next + i;
    }
    next += block.events;
  }
  EXPECT_EQ(next, n);
}

TEST(SegmentIndex, TokenFilterHoldsEveryIndexedTokenAndFewOthers) {
  test::TempDir dir;
  const auto w = write_varied(dir.path(), 3000, 64 << 20);
  auto store = StoreIndex::open(dir.path());
  ASSERT_TRUE(store);
  ASSERT_EQ(store->segments().size(), 1u);
  const auto& seg = *store->segments()[0];
  ASSERT_EQ(seg.blocks().size(), 1u);
  const BlockInfo& block = seg.blocks()[0];
  std::set<std::string> present;
  auto note = [&](std::string_view text) {
    for_each_token(text, [&](std::string_view t) {
      std::string lower(t);
      for (char& c : lower)
        c = token_lower(c);
      present.insert(lower);
    });
  };
  for (const auto& e : w.events) {
    for (std::string_view s :
         {std::string_view(e.raw), std::string_view(e.host), std::string_view(e.app),
          std::string_view(e.procid), std::string_view(e.source_path)})
      note(s);
    for (const auto& [name, value] : e.fields)
      note(value);
  }
  ASSERT_TRUE(present.count("zone3"));  // from a field value that is not in raw
  ASSERT_TRUE(present.count("auth"));   // from a source path
  for (const auto& t : present) {
    EXPECT_TRUE(block.may_contain_token(t)) << t;
    std::string upper = t;
    for (char& c : upper)
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    EXPECT_TRUE(block.may_contain_token(upper)) << upper;
    EXPECT_EQ(block.may_contain_hash(token_hash(t)), true);
  }
  // Absent tokens: the filter is sized for about 0.5 % false positives; allow 2 %.
  std::size_t false_positives = 0;
  constexpr std::size_t probes = 20'000;
  for (std::size_t i = 0; i < probes; ++i)
    false_positives += block.may_contain_token("absent" + std::to_string(i) + "x");
  EXPECT_LT(false_positives, probes / 50);
  // Tokens are whole: a prefix of a present token is not itself present.
  EXPECT_TRUE(block.may_contain_token("password"));
  EXPECT_FALSE(block.may_contain_token("passwor") && block.may_contain_token("passwo") &&
               block.may_contain_token("passw"));
}

TEST(SegmentIndex, ParallelDecodingEqualsSerialDecoding) {
  test::TempDir dir;
  const auto w = write_varied(dir.path(), 20'000, 64 << 20);
  auto store = StoreIndex::open(dir.path());
  ASSERT_TRUE(store);
  const auto seg = store->segments().at(0);
  const std::size_t blocks = seg->blocks().size();
  ASSERT_GE(blocks, 4u);
  std::vector<std::vector<OwnedEvent>> decoded(blocks);
  std::vector<std::string> errors(blocks);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      BlockScratch scratch;
      for (int round = 0; round < 3; ++round)
        for (std::size_t b = static_cast<std::size_t>(t); b < blocks; b += 4) {
          auto events = seg->decode(b, scratch);
          if (!events) {
            errors[b] = events.error().message;
            continue;
          }
          decoded[b].clear();
          for (const auto& s : *events)
            decoded[b].push_back(OwnedEvent::from(s.event, s.source_path));
        }
    });
  for (auto& t : threads)
    t.join();
  std::size_t i = 0;
  for (std::size_t b = 0; b < blocks; ++b) {
    EXPECT_EQ(errors[b], "");
    for (const auto& e : decoded[b])
      ASSERT_EQ(e, w.events[i++]);
  }
  EXPECT_EQ(i, w.events.size());
}

void flip_byte(const std::filesystem::path& file, std::uint64_t offset) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x04));
}

// The raw-only decoder returns exactly the raw lines the full decoder does, block by block, with
// one scratch reused across both (the decompression context is shared).
TEST(SegmentIndex, RawOnlyDecodingEqualsTheRawOfFullDecoding) {
  test::TempDir dir;
  const auto w = write_varied(dir.path(), 12'000, 64 << 20);
  auto store = StoreIndex::open(dir.path());
  ASSERT_TRUE(store);
  std::size_t next = 0;
  BlockScratch scratch;
  for (const auto& seg : store->segments()) {
    ASSERT_TRUE(seg->blocked());
    for (std::size_t b = 0; b < seg->blocks().size(); ++b) {
      auto raws = seg->decode_raw(b, scratch);
      ASSERT_TRUE(raws) << raws.error().message;
      ASSERT_EQ(raws->size(), seg->blocks()[b].events);
      std::vector<std::string> copy(raws->begin(), raws->end());
      for (std::size_t i = 0; i < copy.size(); ++i)
        ASSERT_EQ(copy[i], w.events[next + i].raw) << "event " << next + i;
      auto events = seg->decode(b, scratch);
      ASSERT_TRUE(events) << events.error().message;
      for (std::size_t i = 0; i < copy.size(); ++i)
        ASSERT_EQ((*events)[i].event.raw, copy[i]);
      next += copy.size();
    }
  }
  EXPECT_EQ(next, w.events.size());
}

TEST(SegmentIndex, FlippedBitInBlockDataFailsThatBlockOnly) {
  test::TempDir dir;
  const auto w = write_varied(dir.path(), 10'000, 64 << 20);
  std::filesystem::path file;
  std::uint64_t offset = 0;
  std::uint32_t victim_events = 0;
  {
    auto store = StoreIndex::open(dir.path());
    ASSERT_TRUE(store);
    const auto& seg = *store->segments().at(0);
    file = seg.path();
    const BlockInfo& b = seg.blocks()[1];
    offset = b.data_offset + b.data_bytes / 2;
    victim_events = b.events;
  }
  flip_byte(file, offset);
  auto store = StoreIndex::open(dir.path());
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->errors().empty());
  const auto& seg = *store->segments().at(0);
  BlockScratch scratch;
  EXPECT_TRUE(seg.decode(0, scratch));
  auto bad = seg.decode(1, scratch);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find(file.string() + ": block 1 (sequences 4096..8191)"),
            std::string::npos)
      << bad.error().message;
  EXPECT_NE(bad.error().message.find("data CRC32C mismatch"), std::string::npos);
  auto bad_raw = seg.decode_raw(1, scratch);
  ASSERT_FALSE(bad_raw);
  EXPECT_EQ(bad_raw.error().message, bad.error().message);
  EXPECT_TRUE(seg.decode(2, scratch));
  EXPECT_TRUE(seg.decode_raw(2, scratch));
  // Record iteration reports the block and reads the others.
  auto back = read_store(dir.path());
  ASSERT_EQ(back.report.errors.size(), 1u);
  EXPECT_EQ(back.report.errors[0].path, file);
  EXPECT_EQ(back.events.size(), w.events.size() - victim_events);
  EXPECT_EQ(back.sequences.back(), w.events.size() - 1);
}

TEST(SegmentIndex, FlippedBitInIndexAreaMarksThatBlock) {
  test::TempDir dir;
  write_varied(dir.path(), 10'000, 64 << 20);
  std::filesystem::path file;
  std::uint64_t offset = 0;
  {
    auto store = StoreIndex::open(dir.path());
    const auto& seg = *store->segments().at(0);
    file = seg.path();
    // The first block's index area starts right after the header.
    offset = segment_header_bytes + 2;
  }
  flip_byte(file, offset);
  auto store = StoreIndex::open(dir.path());
  ASSERT_TRUE(store);
  const auto& seg = *store->segments().at(0);
  ASSERT_EQ(seg.blocks().size(), 3u);
  EXPECT_NE(seg.blocks()[0].error.find("index area CRC32C mismatch"), std::string::npos)
      << seg.blocks()[0].error;
  EXPECT_TRUE(seg.blocks()[0].hosts.empty());
  EXPECT_FALSE(seg.blocks()[0].may_contain_token("failed"));
  BlockScratch scratch;
  EXPECT_FALSE(seg.decode(0, scratch));
  EXPECT_EQ(seg.blocks()[1].error, "");
  EXPECT_TRUE(seg.decode(1, scratch));
  auto back = read_store(dir.path());
  EXPECT_EQ(back.report.errors.size(), 1u);
  EXPECT_EQ(back.events.size(), 10'000u - block_max_events);
}

TEST(SegmentIndex, TruncatedOrCorruptFooterFailsThatSegmentOnly) {
  test::TempDir dir;
  {
    auto out = StoreOutput::open(test_config(dir.path(), 1024));
    ASSERT_TRUE(out);
    for (std::uint64_t b = 0; b < 8; ++b)
      ASSERT_TRUE(store_batch(**out, *numbered_batch(b * 10, 10)));
  }
  auto listing = StoreReader::open(dir.path());
  ASSERT_TRUE(listing);
  const auto segments = listing->segments();
  ASSERT_GE(segments.size(), 4u);
  const auto full = read_store(dir.path());
  ASSERT_EQ(full.events.size(), 80u);
  std::uint64_t in_victim = 0, in_other = 0;
  {
    auto a = SegmentIndex::open(segments[1]);
    auto b = SegmentIndex::open(segments[2]);
    ASSERT_TRUE(a && b);
    in_victim = (*a)->header().record_count;
    in_other = (*b)->header().record_count;
  }
  // Cut the trailer short on one segment, flip a footer byte on another.
  std::filesystem::resize_file(segments[1], std::filesystem::file_size(segments[1]) - 5);
  flip_byte(segments[2], std::filesystem::file_size(segments[2]) - blocks_trailer_bytes - 10);
  auto store = StoreIndex::open(dir.path());
  ASSERT_TRUE(store);
  ASSERT_EQ(store->errors().size(), 2u);
  EXPECT_EQ(store->errors()[0].path, segments[1]);
  EXPECT_NE(store->errors()[0].message.find("truncated or corrupt footer"), std::string::npos)
      << store->errors()[0].message;
  EXPECT_NE(store->errors()[1].message.find("footer: CRC32C mismatch"), std::string::npos)
      << store->errors()[1].message;
  EXPECT_EQ(store->segments().size(), segments.size() - 2);
  auto back = read_store(dir.path());
  EXPECT_EQ(back.report.errors.size(), 2u);
  EXPECT_EQ(back.events.size(), 80u - in_victim - in_other);
}

/// Rewrites a format-2 record log as format 1: drops each payload's trailing template id (0, one
/// byte) and recomputes the CRC.
void downgrade_to_format_1(const std::filesystem::path& file) {
  std::string bytes = test::read_file(file);
  std::string out = bytes.substr(0, segment_header_bytes);
  const std::uint32_t one = 1;
  std::memcpy(out.data() + 8, &one, 4);
  std::size_t off = segment_header_bytes;
  while (off + record_frame_bytes <= bytes.size()) {
    std::uint32_t len;
    std::memcpy(&len, bytes.data() + off, 4);
    if (len == 0) break;
    ASSERT_EQ(bytes[off + record_frame_bytes + len - 1], '\0');
    std::string payload = bytes.substr(off + record_frame_bytes, len - 1);
    const std::uint32_t new_len = len - 1, crc = crc32c(payload.data(), payload.size());
    std::string frame(8, '\0');
    std::memcpy(frame.data(), &new_len, 4);
    std::memcpy(frame.data() + 4, &crc, 4);
    out += frame + payload;
    out.resize(segment_header_bytes + ((out.size() - segment_header_bytes + 3) & ~std::size_t{3}),
               '\0');
    off += framed_record_bytes(len);
  }
  out.append(segment_trailer_bytes, '\0');
  std::ofstream(file, std::ios::binary | std::ios::trunc).write(out.data(), out.size());
}

TEST(SegmentIndex, FormatOneSegmentsAreReadAndConvertedOnOpen) {
  test::TempDir dir;
  {
    auto batch = numbered_batch(0, 30);
    ASSERT_TRUE(test::write_record_logs(test_config(dir.path(), 1 << 20), {batch.get()}));
  }
  const auto file = dir.path() / segment_file_name(0);
  downgrade_to_format_1(file);
  {
    auto seg = SegmentIndex::open(file);
    ASSERT_TRUE(seg) << seg.error().message;
    EXPECT_EQ((*seg)->header().version, 1u);
    EXPECT_FALSE((*seg)->blocked());
  }
  auto before = read_store(dir.path());
  EXPECT_TRUE(before.report.errors.empty());
  ASSERT_EQ(before.events.size(), 30u);
  EXPECT_EQ(before.events[29].raw, "event 29 ");
  {
    auto out = StoreOutput::open(test_config(dir.path(), 1 << 20));
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ((*out)->counters().segments_sealed.value(), 1u);
    ASSERT_TRUE(store_batch(**out, *numbered_batch(30, 5)));
  }
  auto seg = SegmentIndex::open(file);
  ASSERT_TRUE(seg);
  EXPECT_TRUE((*seg)->blocked());
  EXPECT_EQ((*seg)->header().version, segment_format_version);
  auto after = read_store(dir.path());
  EXPECT_TRUE(after.report.errors.empty());
  ASSERT_EQ(after.events.size(), 35u);
  for (std::size_t i = 0; i < 30; ++i)
    EXPECT_EQ(after.events[i], before.events[i]);
  EXPECT_EQ(after.sequences[34], 34u);
}

TEST(SegmentIndex, SegmentTokenFilterHoldsEveryBlocksTokens) {
  test::TempDir dir;
  const auto w = write_varied(dir.path(), 10'000, 64 << 20);
  auto seg = SegmentIndex::open(dir.path() / segment_file_name(0));
  ASSERT_TRUE(seg) << seg.error().message;
  EXPECT_EQ((*seg)->header().version, 3u);
  ASSERT_EQ((*seg)->blocks().size(), 3u);
  ASSERT_TRUE((*seg)->has_segment_tokens());
  for (const auto& e : w.events) {
    for_each_token(e.raw,
                   [&](std::string_view t) { EXPECT_TRUE((*seg)->may_contain_token(t)) << t; });
    ASSERT_TRUE((*seg)->may_contain_token(e.host));
  }
  // A field value that is not in raw, on a block other than the first.
  EXPECT_TRUE((*seg)->may_contain_token("Zone4"));
  std::size_t false_positives = 0;
  for (int i = 0; i < 2000; ++i)
    false_positives += (*seg)->may_contain_token("absent" + std::to_string(i));
  EXPECT_LT(false_positives, 40u);
  // One block: no segment filter (the block's says the same), and every token may be there.
  test::TempDir small;
  write_varied(small.path(), 100, 64 << 20);
  auto one = SegmentIndex::open(small.path() / segment_file_name(0));
  ASSERT_TRUE(one);
  EXPECT_FALSE((*one)->has_segment_tokens());
  EXPECT_TRUE((*one)->may_contain_token("absent1"));
}

TEST(SegmentIndex, IndexAreasCheckedOnFirstUseMatchThoseCheckedAtOpen) {
  test::TempDir dir;
  write_varied(dir.path(), 10'000, 64 << 20);
  const auto file = dir.path() / segment_file_name(0);
  auto eager = SegmentIndex::open(file);
  auto lazy = SegmentIndex::open(file, IndexCheck::on_first_use);
  ASSERT_TRUE(eager && lazy);
  ASSERT_EQ((*lazy)->blocks().size(), 3u);
  // Before first use only the footer's members are set.
  EXPECT_TRUE((*lazy)->blocks()[1].hosts.empty());
  EXPECT_EQ((*lazy)->blocks()[1].tokens.buckets(), 0u);
  EXPECT_EQ((*lazy)->blocks()[1].first_sequence, (*eager)->blocks()[1].first_sequence);
  // Loading from several threads at once gives each block once, equal to the eager parse.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (std::size_t b = 0; b < 3; ++b)
        (void)(*lazy)->block(b);
    });
  for (auto& t : threads)
    t.join();
  for (std::size_t b = 0; b < 3; ++b) {
    const BlockInfo& x = (*eager)->blocks()[b];
    const BlockInfo& y = (*lazy)->block(b);
    EXPECT_EQ(y.error, "");
    EXPECT_EQ(y.hosts, x.hosts);
    EXPECT_EQ(y.apps, x.apps);
    EXPECT_EQ(y.source_paths, x.source_paths);
    EXPECT_EQ(y.tokens.buckets(), x.tokens.buckets());
    ASSERT_EQ(y.host_codes.size(), x.host_codes.size());
    for (std::uint32_t i = 0; i < x.events; ++i)
      ASSERT_EQ(y.host_codes[i], x.host_codes[i]);
  }
  // Decoding a block not yet loaded loads it first.
  auto fresh = SegmentIndex::open(file, IndexCheck::on_first_use);
  ASSERT_TRUE(fresh);
  BlockScratch scratch;
  auto events = (*fresh)->decode(2, scratch);
  ASSERT_TRUE(events) << events.error().message;
  EXPECT_EQ(events->size(), (*eager)->blocks()[2].events);
  EXPECT_EQ((*fresh)->blocks()[2].hosts, (*eager)->blocks()[2].hosts);
}

TEST(SegmentIndex, CorruptIndexAreaCheckedOnFirstUseFailsThatBlockWhenRead) {
  test::TempDir dir;
  write_varied(dir.path(), 10'000, 64 << 20);
  const auto file = dir.path() / segment_file_name(0);
  flip_byte(file, segment_header_bytes + 2);  // in block 0's index area
  auto lazy = SegmentIndex::open(file, IndexCheck::on_first_use);
  ASSERT_TRUE(lazy) << lazy.error().message;
  EXPECT_EQ((*lazy)->blocks()[0].error, "");  // not read yet
  BlockScratch scratch;
  auto bad = (*lazy)->decode_raw(0, scratch);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find(file.string() + ": block 0 (sequences 0..4095): index area "
                                                     "CRC32C mismatch"),
            std::string::npos)
      << bad.error().message;
  EXPECT_NE((*lazy)->block(0).error.find("index area CRC32C mismatch"), std::string::npos);
  EXPECT_FALSE((*lazy)->block(0).may_contain_token("failed"));
  EXPECT_EQ((*lazy)->block(1).error, "");
  EXPECT_TRUE((*lazy)->decode(1, scratch));
}

TEST(SegmentIndex, TokenFilterIsCheckedApartFromTheDictionaries) {
  test::TempDir dir;
  write_varied(dir.path(), 10'000, 64 << 20);
  const auto file = dir.path() / segment_file_name(0);
  std::uint32_t buckets = 0;
  {
    const std::string bytes = test::read_file(file);
    std::memcpy(&buckets, bytes.data() + segment_header_bytes, 4);
  }
  // Block 0's index area: its filter, then the dictionaries (damaged here).
  flip_byte(file, segment_header_bytes + 4 + std::uint64_t{buckets} * 32 + 1);
  auto lazy = SegmentIndex::open(file, IndexCheck::on_first_use);
  ASSERT_TRUE(lazy);
  const TokenFilter* filter = (*lazy)->block_tokens(0);
  ASSERT_NE(filter, nullptr);  // the filter is intact and prunes on its own
  EXPECT_TRUE(filter->may_contain("failed"));
  EXPECT_FALSE(filter->may_contain("zk_incident"));
  const BlockInfo& b = (*lazy)->block(0);
  EXPECT_NE(b.error.find("block 0 (sequences 0..4095): index area CRC32C mismatch"),
            std::string::npos)
      << b.error;
  EXPECT_TRUE(b.hosts.empty());
  BlockScratch scratch;
  EXPECT_FALSE((*lazy)->decode(0, scratch));
  EXPECT_TRUE((*lazy)->decode(1, scratch));
  // Damage to the filter itself fails the filter too.
  flip_byte(file, segment_header_bytes + 40);
  auto again = SegmentIndex::open(file, IndexCheck::on_first_use);
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)->block_tokens(0), nullptr);
  EXPECT_NE((*again)->block_tokens(1), nullptr);
}

TEST(SegmentIndex, CorruptSegmentTokenFilterFailsThatSegment) {
  test::TempDir dir;
  write_varied(dir.path(), 10'000, 64 << 20);
  const auto file = dir.path() / segment_file_name(0);
  std::uint64_t footer_offset = 0;
  {
    const std::string bytes = test::read_file(file);
    std::memcpy(&footer_offset, bytes.data() + bytes.size() - blocks_trailer_bytes + 8, 8);
  }
  flip_byte(file, footer_offset - 7);  // the last bucket of the segment filter
  for (auto check : {IndexCheck::at_open, IndexCheck::on_first_use}) {
    auto seg = SegmentIndex::open(file, check);
    ASSERT_FALSE(seg);
    EXPECT_NE(seg.error().message.find("truncated or corrupt footer: segment token filter "
                                       "CRC32C mismatch"),
              std::string::npos)
        << seg.error().message;
  }
  auto store = StoreIndex::open(dir.path());
  ASSERT_TRUE(store);
  EXPECT_EQ(store->errors().size(), 1u);
}

TEST(SegmentIndex, FormatTwoBlockedSegmentsAreStillRead) {
  test::TempDir dir;
  const auto w = write_varied(dir.path(), 10'000, 64 << 20);
  const auto file = dir.path() / segment_file_name(0);
  const auto v3_bytes = std::filesystem::file_size(file);
  ASSERT_TRUE(test::downgrade_blocked_to_format_2(file));
  EXPECT_LT(std::filesystem::file_size(file), v3_bytes);
  for (auto check : {IndexCheck::at_open, IndexCheck::on_first_use}) {
    auto seg = SegmentIndex::open(file, check);
    ASSERT_TRUE(seg) << seg.error().message;
    EXPECT_EQ((*seg)->header().version, 2u);
    EXPECT_FALSE((*seg)->has_segment_tokens());
    EXPECT_TRUE((*seg)->may_contain_token("absent1"));
    ASSERT_EQ((*seg)->blocks().size(), 3u);
    EXPECT_TRUE((*seg)->block(1).may_contain_token("Zone4"));
  }
  auto back = read_store(dir.path());
  EXPECT_TRUE(back.report.errors.empty());
  ASSERT_EQ(back.events.size(), w.events.size());
  for (std::size_t i = 0; i < w.events.size(); ++i)
    ASSERT_EQ(back.events[i], w.events[i]) << i;
  // A writer opening the store keeps the format-2 segment as it is and writes format 3.
  {
    auto out = StoreOutput::open(test_config(dir.path(), 64 << 20));
    ASSERT_TRUE(out) << out.error().message;
    ASSERT_TRUE(store_batch(**out, *numbered_batch(10'000, 5)));
  }
  auto store = StoreIndex::open(dir.path());
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->errors().empty());
  ASSERT_EQ(store->segments().size(), 2u);
  EXPECT_EQ(store->segments()[0]->header().version, 2u);
  EXPECT_EQ(store->segments()[1]->header().version, segment_format_version);
  EXPECT_EQ(read_store(dir.path()).events.size(), w.events.size() + 5);
}

TEST(SegmentIndex, Lz4BlocksDecodeAsWrittenAndFailAloneWhenDamaged) {
  test::TempDir dir;
  const auto w = write_varied(dir.path(), 10'000, 64 << 20, "lz4");
  const auto file = dir.path() / segment_file_name(0);
  std::uint64_t victim = 0;
  {
    auto seg = SegmentIndex::open(file);
    ASSERT_TRUE(seg) << seg.error().message;
    ASSERT_EQ((*seg)->blocks().size(), 3u);
    const std::string bytes = test::read_file(file);
    BlockScratch scratch;
    std::size_t next = 0;
    for (std::size_t b = 0; b < 3; ++b) {
      const BlockInfo& block = (*seg)->blocks()[b];
      EXPECT_EQ(bytes.substr(block.data_offset, 4), "SLZ4");
      auto events = (*seg)->decode(b, scratch);
      ASSERT_TRUE(events) << events.error().message;
      for (const auto& ev : *events)
        ASSERT_EQ(OwnedEvent::from(ev.event, ev.source_path), w.events[next++]);
      auto raws = (*seg)->decode_raw(b, scratch);
      ASSERT_TRUE(raws);
      ASSERT_EQ(raws->size(), block.events);
      EXPECT_EQ((*raws)[0], w.events[next - block.events].raw);
    }
    EXPECT_EQ(next, w.events.size());
    victim = (*seg)->blocks()[1].data_offset + 100;
  }
  // The same events compressed with zstd take less room.
  test::TempDir zstd_dir;
  write_varied(zstd_dir.path(), 10'000, 64 << 20);
  EXPECT_LT(std::filesystem::file_size(zstd_dir.path() / segment_file_name(0)),
            std::filesystem::file_size(file));
  flip_byte(file, victim);
  auto seg = SegmentIndex::open(file);
  ASSERT_TRUE(seg);
  BlockScratch scratch;
  auto bad = (*seg)->decode(1, scratch);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("block 1 (sequences 4096..8191): data CRC32C mismatch"),
            std::string::npos)
      << bad.error().message;
  EXPECT_TRUE((*seg)->decode(0, scratch));
  EXPECT_TRUE((*seg)->decode(2, scratch));
}

TEST(SegmentIndex, Lz4BlockWithAValidCrcButBadContentIsAnError) {
  test::TempDir dir;
  write_varied(dir.path(), 5'000, 64 << 20, "lz4");
  const auto file = dir.path() / segment_file_name(0);
  std::string bytes = test::read_file(file);
  std::uint64_t footer_offset;
  std::memcpy(&footer_offset, bytes.data() + bytes.size() - blocks_trailer_bytes + 8, 8);
  // Damage block 0's LZ4 data, then make its data CRC (and the footer's) match again: the
  // decoder must reject the block, not read out of bounds.
  std::uint64_t data_offset;
  std::uint32_t data_bytes;
  std::memcpy(&data_offset, bytes.data() + footer_offset + 40, 8);
  std::memcpy(&data_bytes, bytes.data() + footer_offset + 48, 4);
  for (std::uint32_t i = 4; i < data_bytes; i += 7)
    bytes[data_offset + i] = static_cast<char>(0xFF);
  const std::uint32_t data_crc = crc32c(bytes.data() + data_offset, data_bytes);
  std::memcpy(bytes.data() + footer_offset + 56, &data_crc, 4);
  std::uint32_t count;
  std::memcpy(&count, bytes.data() + bytes.size() - blocks_trailer_bytes + 16, 4);
  const std::uint32_t footer_crc =
      crc32c(bytes.data() + footer_offset, std::size_t{count} * block_footer_entry_bytes);
  std::memcpy(bytes.data() + bytes.size() - blocks_trailer_bytes + 20, &footer_crc, 4);
  std::ofstream(file, std::ios::binary | std::ios::trunc).write(bytes.data(), bytes.size());
  auto seg = SegmentIndex::open(file);
  ASSERT_TRUE(seg) << seg.error().message;
  BlockScratch scratch;
  auto bad = (*seg)->decode(0, scratch);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("block 0 (sequences 0..4095): "), std::string::npos)
      << bad.error().message;
  EXPECT_TRUE((*seg)->decode(1, scratch));
}

TEST(SegmentIndex, ConcurrentIndexReaderSeesEverySequenceOnceWhileSegmentsSeal) {
  test::TempDir dir;
  constexpr std::uint64_t batches = 300, per_batch = 40;
  auto out = StoreOutput::open(test_config(dir.path(), 32 << 10));
  ASSERT_TRUE(out);
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> max_seen{0}, scans{0};
  std::string failure;
  std::thread reader([&] {
    BlockScratch scratch;
    Arena arena;
    while (failure.empty()) {
      const bool last = done.load();
      auto store = StoreIndex::open(dir.path());
      if (!store) {
        failure = store.error().message;
        break;
      }
      if (!store->errors().empty()) {
        failure = store->errors()[0].message;
        break;
      }
      std::uint64_t expect = 0;
      auto check = [&](const StoredEvent& s) {
        if (s.sequence != expect || s.event.line != expect ||
            s.event.raw.substr(0, s.event.raw.find(' ', 6)) != "event " + std::to_string(expect))
          failure = "sequence " + std::to_string(expect) + " read as " + std::to_string(s.sequence);
        ++expect;
      };
      for (const auto& seg : store->segments()) {
        if (!failure.empty()) break;
        if (!seg->blocked()) {
          auto log = seg->log_reader();
          if (!log) {
            failure = log.error().message;
            break;
          }
          StoredEvent ev;
          SegmentReader::Step step;
          while ((step = (*log)->next(ev, arena)) == SegmentReader::Step::record && failure.empty())
            check(ev);
          if (step == SegmentReader::Step::corrupt) failure = (*log)->error();
          continue;
        }
        for (std::size_t b = 0; b < seg->blocks().size() && failure.empty(); ++b) {
          auto events = seg->decode(b, scratch);
          if (!events) {
            failure = events.error().message;
            break;
          }
          for (const auto& s : *events)
            check(s);
        }
      }
      if (expect > max_seen) max_seen = expect;
      scans.fetch_add(1);
      if (last) break;
    }
  });
  bool written = true;
  for (std::uint64_t b = 0; b < batches && written; ++b)
    written = store_batch(**out, *numbered_batch(b * per_batch, per_batch, b % 30)).has_value();
  written = written && (*out)->close().has_value();
  done = true;
  reader.join();
  ASSERT_TRUE(written);
  EXPECT_EQ(failure, "");
  EXPECT_EQ(max_seen.load(), batches * per_batch);
  EXPECT_GT((*out)->counters().segments_sealed.value(), 5u);
  EXPECT_GT(scans.load(), 1u);
}

}  // namespace
}  // namespace sluice
