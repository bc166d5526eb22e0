// SPDX-License-Identifier: Apache-2.0
/// `TokenBucket` paces `sluice blast`: one token per message, taken a batch at a time. The
/// caller passes the clock reading in, so the bucket is a pure calculation and the tests need no
/// sleeping.
#pragma once

#include <chrono>

namespace sluice::blast {

/// A token bucket that may go into debt: `take()` always succeeds and returns how long the caller
/// must wait before sending. Debt keeps the long-run rate exact even when sleeps overshoot.
/// Not thread-safe; one bucket per sending thread.
class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  /// `rate_per_second` tokens are added per second up to `burst` tokens; the bucket starts full.
  /// A rate of 0 or less means unlimited: `take()` never asks to wait.
  TokenBucket(double rate_per_second, double burst, Clock::time_point now);

  /// Takes `tokens` at `now` and returns how long to wait before using them (zero when they
  /// were there). `now` must not go backwards.
  std::chrono::nanoseconds take(double tokens, Clock::time_point now);

  /// Tokens in the bucket after the last `take()`; negative while in debt.
  double tokens() const { return tokens_; }

 private:
  double rate_;
  double burst_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace sluice::blast
