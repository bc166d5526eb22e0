// SPDX-License-Identifier: Apache-2.0
#include <ctime>

#include "sluice/ingest/source.hpp"

namespace sluice {

std::int64_t wall_clock_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace sluice
