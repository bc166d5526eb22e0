// SPDX-License-Identifier: Apache-2.0
/// Helpers shared by the ingest source tests: run a source on its own thread until stopped, and
/// wait (bounded) for a condition.
#pragma once

#include <chrono>
#include <cstddef>
#include <stop_token>
#include <thread>

#include "sluice/ingest/source.hpp"

namespace sluice::test {

/// Runs `source` on its own thread, handing batches of `batch_capacity` records to `sink`, until
/// `stop()` (or destruction).
class Runner {
 public:
  Runner(Source& source, BatchSink& sink, std::size_t batch_capacity = 64) {
    ctx_.sink = &sink;
    ctx_.counters = &counters_;
    ctx_.batch_capacity = batch_capacity;
    thread_ = std::jthread([this, &source](std::stop_token st) {
      ctx_.stop = st;
      result_ = source.run(ctx_);
    });
  }
  ~Runner() { stop(); }
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  void stop() {
    if (thread_.joinable()) {
      thread_.request_stop();
      thread_.join();
    }
  }
  SourceCounters& counters() { return counters_; }
  bool ok() const { return result_.has_value(); }

 private:
  SourceContext ctx_;
  SourceCounters counters_;
  Result<void> result_;
  std::jthread thread_;
};

/// Waits until `pred` holds or 15 s pass; no test asserts on timing, this only bounds a hang.
template <class P>
bool wait_for(P pred) {
  for (int i = 0; i < 3000; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

}  // namespace sluice::test
