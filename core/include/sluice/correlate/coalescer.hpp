// SPDX-License-Identifier: Apache-2.0
/// `CorrelationCoalescer`: gathers correlation inputs across pipeline batches so the engine gets
/// fewer, larger submits under load.
///
/// Why: every `CorrelationEngine::submit` pays a fixed cost (two oneTBB regions over the
/// shards, the watermark merge, alert collection). With 4,096 inputs per submit that cost kept
/// two threads at about 1.6 times one; with 16,384 they reach 2 times (bench/RESULTS.md,
/// "Correlation"). The pipeline's sink hands over one batch at a time, so the output that feeds
/// the engine holds inputs back while more batches are waiting and submits when the sink runs
/// out of work (`Output::idle`), when `max_inputs` are held, or when the oldest has waited
/// `max_age_ns`. At light load the sink is idle after every batch, so nothing waits; the bounds
/// only matter near saturation, where they cap the added latency.
///
/// Not thread-safe: one thread (the sink) owns it. `add` copies the key and value bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sluice/correlate/engine.hpp"

namespace sluice {

class CorrelationCoalescer {
 public:
  /// 16,384 inputs: where two threads reached 2 times one in the engine benchmark (a quarter
  /// of that, 4,096, gave 1.6 times). 500 us: half of the 1 ms p99 detection-to-sink budget.
  static constexpr std::size_t default_max_inputs = 16'384;
  static constexpr std::int64_t default_max_age_ns = 500'000;

  explicit CorrelationCoalescer(std::size_t max_inputs = default_max_inputs,
                                std::int64_t max_age_ns = default_max_age_ns);

  /// Holds a copy of `in`; `now_ns` is the monotonic time it arrived.
  void add(const CorrelationInput& in, std::int64_t now_ns);
  bool empty() const { return inputs_.empty(); }
  std::size_t size() const { return inputs_.size(); }
  /// `max_inputs` held, or the oldest has waited `max_age_ns` at `now_ns`.
  bool due(std::int64_t now_ns) const {
    return inputs_.size() >= max_inputs_ ||
           (!inputs_.empty() && now_ns - oldest_ns_ >= max_age_ns_);
  }
  /// Monotonic time the oldest held input arrived (0 when empty): alerts of a submit count
  /// their detection-to-sink latency from here.
  std::int64_t oldest_ns() const { return oldest_ns_; }
  /// Hands every held input to `engine` in one `submit` (in arrival order) and empties.
  void submit(CorrelationEngine& engine, std::vector<CorrelationAlert>& out);

  std::uint64_t submits() const { return submits_; }      ///< `submit` calls that had inputs
  std::uint64_t submitted() const { return submitted_; }  ///< inputs handed over

 private:
  std::size_t max_inputs_;
  std::int64_t max_age_ns_;
  std::vector<CorrelationInput> inputs_;
  std::vector<std::uint32_t> lengths_;  ///< key and value length of each held input
  std::string bytes_;
  std::int64_t oldest_ns_ = 0;
  std::uint64_t submits_ = 0;
  std::uint64_t submitted_ = 0;
};

}  // namespace sluice
