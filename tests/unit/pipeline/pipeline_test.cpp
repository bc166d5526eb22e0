// SPDX-License-Identifier: Apache-2.0
#include "sluice/pipeline/pipeline.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

namespace sluice {
namespace {

/// A finite source that produces `count` numbered RFC 3164 lines (every `bad_every`-th one is
/// garbage that no parser accepts), in batches of the context's capacity.
class NumberedSource final : public Source {
 public:
  NumberedSource(std::size_t count, Backpressure mode, std::size_t bad_every = 0)
      : count_(count), mode_(mode), bad_every_(bad_every) {}
  std::string_view kind() const override { return "numbered"; }
  std::string describe() const override { return "numbered"; }
  Backpressure backpressure() const override { return mode_; }
  bool finite() const override { return true; }
  Result<void> run(SourceContext& ctx) override {
    auto batch = std::make_unique<EventBatch>(ctx.source_id, ctx.batch_capacity);
    for (std::size_t i = 0; i < count_; ++i) {
      std::string line =
          (bad_every_ != 0 && i % bad_every_ == 0)
              ? fmt::format("<{}>", 1000 + i)  // PRI out of range
              : fmt::format("<13>Nov 28 06:55:46 host{} app[{}]: message {}", ctx.source_id, i, i);
      batch->add_record(line, wall_clock_ns());
      ctx.counters->records.add();
      ctx.counters->bytes.add(line.size());
      if (batch->size() == ctx.batch_capacity) {
        ctx.sink->push(std::move(batch));
        batch = std::make_unique<EventBatch>(ctx.source_id, ctx.batch_capacity);
      }
    }
    if (!batch->empty()) ctx.sink->push(std::move(batch));
    return {};
  }

 private:
  std::size_t count_;
  Backpressure mode_;
  std::size_t bad_every_;
};

/// An output that keeps every message it was given, optionally slowly.
class CollectingOutput final : public Output {
 public:
  explicit CollectingOutput(std::chrono::microseconds delay = {}) : delay_(delay) {}
  std::string describe() const override { return "collect"; }
  std::size_t render(const EventBatch& batch, std::span<const Detection> detections, const RuleSet*,
                     std::string& out) const override {
    for (const auto& e : batch.events()) {
      out += e.raw;
      out += '\n';
    }
    for (const auto& d : detections) {
      out += "ALERT ";
      out += batch.events()[d.event_index].message;
      out += '\n';
    }
    return batch.size();
  }
  Result<void> write(std::string_view bytes) override {
    if (delay_.count() != 0) std::this_thread::sleep_for(delay_);
    text_.append(bytes);
    return {};
  }
  Result<void> flush() override { return {}; }
  const std::string& text() const { return text_; }

 private:
  std::chrono::microseconds delay_;
  std::string text_;
};

/// A real (tiny) rule set: one rule that matches messages containing a word.
class WordRuleSet final : public RuleSet {
 public:
  explicit WordRuleSet(std::string word) : word_(std::move(word)) {
    info_.id = "word";
    info_.title = "contains " + word_;
  }
  std::size_t rule_count() const override { return 1; }
  const RuleInfo& rule(std::uint32_t) const override { return info_; }
  std::unique_ptr<RuleScanner> make_scanner() const override {
    struct Scanner final : RuleScanner {
      std::string word;
      void scan(const EventBatch& batch, std::vector<Detection>& out) override {
        for (std::uint32_t i = 0; i < batch.size(); ++i)
          if (batch.events()[i].message.find(word) != std::string_view::npos)
            out.push_back(Detection{i, 0, {}});
      }
    };
    auto s = std::make_unique<Scanner>();
    s->word = word_;
    return s;
  }

 private:
  std::string word_;
  RuleInfo info_;
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

struct Settings {
  std::size_t workers, ring_capacity, batch_size;
};

class PipelineOrder : public ::testing::TestWithParam<Settings> {};

// Under every setting (the stress ones included: one worker, ring capacity 2, batch size 1),
// every record arrives once, in each source's order, and the counters add up.
TEST_P(PipelineOrder, EveryRecordOnceInSourceOrder) {
  const auto s = GetParam();
  MetricsRegistry metrics;
  PipelineConfig pc;
  pc.workers = s.workers;
  pc.ring_capacity = s.ring_capacity;
  pc.batch_size = s.batch_size;
  Pipeline p(pc, metrics);
  constexpr std::size_t per_source = 5000;
  p.add_source(std::make_unique<NumberedSource>(per_source, Backpressure::block, 97));
  p.add_source(std::make_unique<NumberedSource>(per_source, Backpressure::block));
  auto out = std::make_unique<CollectingOutput>();
  auto* collected = out.get();
  p.add_output(std::move(out));
  ASSERT_TRUE(p.start().has_value());
  p.wait();
  ASSERT_TRUE(p.finished());

  std::size_t next[2] = {0, 0};
  std::size_t total = 0;
  for (const auto& line : lines_of(collected->text())) {
    ++total;
    if (line.starts_with("<13>")) {
      const int src = line.find("host0") != std::string::npos ? 0 : 1;
      const auto n = std::stoul(line.substr(line.rfind(' ') + 1));
      EXPECT_EQ(n, next[src]) << line;
      next[src] = n + 1;
    } else {
      // Garbage lines come only from source 0 at multiples of 97.
      const auto n = std::stoul(line.substr(1)) - 1000;
      EXPECT_EQ(n % 97, 0u);
      EXPECT_EQ(n, next[0]) << line;
      next[0] = n + 1;
    }
  }
  EXPECT_EQ(total, 2 * per_source);
  const auto st = p.stats();
  EXPECT_EQ(st.events, 2 * per_source);
  EXPECT_EQ(st.unparsed, (per_source + 96) / 97);
  EXPECT_EQ(st.events, st.parsed + st.unparsed + st.dropped);
  EXPECT_EQ(st.dropped, 0u);
  EXPECT_DOUBLE_EQ(
      metrics.value("sluice_events_unparsed_by_reason_total", "reason=\"bad_priority\""),
      static_cast<double>(st.unparsed));
}

INSTANTIATE_TEST_SUITE_P(Settings, PipelineOrder,
                         ::testing::Values(Settings{1, 2, 1}, Settings{2, 2, 1},
                                           Settings{2, 64, 512}, Settings{3, 4, 7}));

// A drop-mode source facing a slow output loses batches, but every loss is counted.
TEST(Pipeline, DropModeCountsEveryDrop) {
  MetricsRegistry metrics;
  PipelineConfig pc;
  pc.workers = 1;
  pc.ring_capacity = 2;
  pc.batch_size = 16;
  Pipeline p(pc, metrics);
  p.add_source(std::make_unique<NumberedSource>(20000, Backpressure::drop));
  auto out = std::make_unique<CollectingOutput>(std::chrono::microseconds(200));
  auto* collected = out.get();
  p.add_output(std::move(out));
  ASSERT_TRUE(p.start().has_value());
  p.wait();
  const auto st = p.stats();
  EXPECT_EQ(st.events, 20000u);
  EXPECT_GT(st.dropped_ring_full, 0u) << "the slow output should have forced drops";
  EXPECT_EQ(st.events, st.parsed + st.unparsed + st.dropped);
  EXPECT_EQ(lines_of(collected->text()).size(), st.parsed + st.unparsed);
  EXPECT_DOUBLE_EQ(metrics.value("sluice_events_dropped_total", "reason=\"ring_full\""),
                   static_cast<double>(st.dropped_ring_full));
}

TEST(Pipeline, RulesRaiseAlerts) {
  MetricsRegistry metrics;
  PipelineConfig pc;
  pc.workers = 2;
  Pipeline p(pc, metrics);
  p.add_source(std::make_unique<NumberedSource>(1000, Backpressure::block));
  p.set_rules(std::make_shared<WordRuleSet>("message 7"));
  auto out = std::make_unique<CollectingOutput>();
  auto* collected = out.get();
  p.add_output(std::move(out));
  ASSERT_TRUE(p.start().has_value());
  p.wait();
  // "message 7", "message 7x", "message 7xx": 1 + 10 + 100 matches among 0..999.
  EXPECT_EQ(p.stats().alerts, 111u);
  std::size_t alerts = 0;
  for (const auto& l : lines_of(collected->text()))
    alerts += l.starts_with("ALERT ");
  EXPECT_EQ(alerts, 111u);
}

TEST(Pipeline, NoInputIsAnError) {
  MetricsRegistry metrics;
  Pipeline p(PipelineConfig{}, metrics);
  auto r = p.start();
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("no input"), std::string::npos);
}

TEST(PipelineStats, JsonHasTheContractKeys) {
  PipelineStats st;
  st.events = 3;
  st.parsed = 2;
  st.unparsed = 1;
  const auto j = st.to_json();
  for (const char* key : {"\"events\":3", "\"parsed\":2", "\"unparsed\":1", "\"dropped\":0",
                          "\"alerts\":0", "\"bytes\":0", "\"seconds\":"})
    EXPECT_NE(j.find(key), std::string::npos) << key << " in " << j;
}

}  // namespace
}  // namespace sluice
