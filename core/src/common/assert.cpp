// SPDX-License-Identifier: Apache-2.0
#include "sluice/common/assert.hpp"

#include <cstdio>
#include <cstdlib>

namespace sluice::detail {

void assertion_failed(const char* condition, std::string_view message, const char* file, int line) {
  std::fprintf(stderr, "sluice: assertion failed: %s (%.*s) at %s:%d\n", condition,
               static_cast<int>(message.size()), message.data(), file, line);
  std::abort();
}

}  // namespace sluice::detail
