// SPDX-License-Identifier: Apache-2.0
/// `Backoff` is how pipeline threads wait for a ring: spin briefly (a batch is usually
/// moments away under load), then yield, then sleep with a capped, growing interval so idle
/// threads cost almost no CPU. The cap (1 ms) bounds the latency an idle pipeline adds.
#pragma once

#include <chrono>
#include <thread>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace sluice::detail {

class Backoff {
 public:
  void pause() {
    if (step_ < spin_steps) {
#if defined(__x86_64__)
      _mm_pause();
#endif
    } else if (step_ < spin_steps + yield_steps) {
      std::this_thread::yield();
    } else {
      sleep_us_ = sleep_us_ == 0 ? 20 : std::min(sleep_us_ * 2, max_sleep_us);
      std::this_thread::sleep_for(std::chrono::microseconds(sleep_us_));
    }
    ++step_;
  }
  /// True during the first, spinning steps. Idle consumers park after these rather than yield:
  /// on a machine with more runnable threads than cores, each yield is a context switch.
  bool spinning() const {
    return step_ < spin_steps;
  }
  void reset() {
    step_ = 0;
    sleep_us_ = 0;
  }

 private:
  static constexpr unsigned spin_steps = 64;
  static constexpr unsigned yield_steps = 16;
  static constexpr unsigned max_sleep_us = 1000;
  unsigned step_ = 0;
  unsigned sleep_us_ = 0;
};

}  // namespace sluice::detail
