// SPDX-License-Identifier: Apache-2.0
/// The pacing arithmetic for `sluice blast` (see token_bucket.hpp); no clock reads, no sleeping.
#include "sluice/blast/token_bucket.hpp"

#include <algorithm>

namespace sluice::blast {

TokenBucket::TokenBucket(double rate_per_second, double burst, Clock::time_point now)
    : rate_(rate_per_second), burst_(std::max(burst, 1.0)), tokens_(burst_), last_(now) {}

std::chrono::nanoseconds TokenBucket::take(double tokens, Clock::time_point now) {
  if (rate_ <= 0) return std::chrono::nanoseconds{0};
  const std::chrono::duration<double> elapsed = now - last_;
  last_ = now;
  tokens_ = std::min(burst_, tokens_ + elapsed.count() * rate_);
  tokens_ -= tokens;
  if (tokens_ >= 0) return std::chrono::nanoseconds{0};
  return std::chrono::nanoseconds{static_cast<long long>(-tokens_ / rate_ * 1e9)};
}

}  // namespace sluice::blast
