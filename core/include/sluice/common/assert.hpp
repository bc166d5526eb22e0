// SPDX-License-Identifier: Apache-2.0
/// Assertions for program bugs (never for bad input). `SLUICE_ASSERT` stays on in release
/// builds and is for cheap checks at boundaries; `SLUICE_DEBUG_ASSERT` is for per-event loops
/// and compiles out with NDEBUG. Both print the condition, a message and the location.
#pragma once

#include <string_view>

namespace sluice::detail {
[[noreturn]] void assertion_failed(const char* condition, std::string_view message,
                                   const char* file, int line);
}  // namespace sluice::detail

#define SLUICE_ASSERT(cond, ...)                                                           \
  do {                                                                                     \
    if (!(cond)) [[unlikely]]                                                              \
      ::sluice::detail::assertion_failed(#cond, ::std::string_view{__VA_ARGS__}, __FILE__, \
                                         __LINE__);                                        \
  } while (false)

#ifdef NDEBUG
#define SLUICE_DEBUG_ASSERT(cond, ...) \
  do {                                 \
  } while (false)
#else
#define SLUICE_DEBUG_ASSERT(cond, ...) SLUICE_ASSERT(cond, __VA_ARGS__)
#endif

#define SLUICE_UNREACHABLE() \
  ::sluice::detail::assertion_failed("unreachable", "", __FILE__, __LINE__)
