// SPDX-License-Identifier: Apache-2.0
/// The logging facade: one named `Logger` per area, levels, and a rate limiter for anything
/// reachable from the data path. Per-event facts are counters, never log lines. Logging writes
/// whole lines to stderr with one `write(2)` each, so lines from threads never interleave.
#pragma once

#include <fmt/format.h>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice {

enum class LogLevel : std::uint8_t { trace, debug, info, warn, error };

/// Process-wide threshold; messages below it are discarded. Default `info`.
void set_log_level(LogLevel level);
LogLevel log_level();
/// Parses "trace", "debug", "info", "warn" or "error".
bool parse_log_level(std::string_view text, LogLevel& out);

/// A named logger. Thread-safe; each call formats and writes one line.
class Logger {
 public:
  explicit constexpr Logger(std::string_view area) : area_(area) {}

  void log(LogLevel level, std::string_view message) const;

  template <class... Args>
  void info(fmt::format_string<Args...> format, Args&&... args) const {
    if (log_level() <= LogLevel::info)
      log(LogLevel::info, fmt::format(format, std::forward<Args>(args)...));
  }
  template <class... Args>
  void warn(fmt::format_string<Args...> format, Args&&... args) const {
    if (log_level() <= LogLevel::warn)
      log(LogLevel::warn, fmt::format(format, std::forward<Args>(args)...));
  }
  template <class... Args>
  void error(fmt::format_string<Args...> format, Args&&... args) const {
    if (log_level() <= LogLevel::error)
      log(LogLevel::error, fmt::format(format, std::forward<Args>(args)...));
  }
  template <class... Args>
  void debug(fmt::format_string<Args...> format, Args&&... args) const {
    if (log_level() <= LogLevel::debug)
      log(LogLevel::debug, fmt::format(format, std::forward<Args>(args)...));
  }

 private:
  std::string_view area_;
};

/// Lets at most one message per `interval` through; the rest are counted and the count is
/// reported with the next message that passes. Thread-safe, lock-free.
class RateLimit {
 public:
  explicit RateLimit(std::chrono::milliseconds interval)
      : interval_ns_(interval.count() * 1000000) {}
  /// True when the caller may log now; `suppressed` receives how many were held back since.
  bool allow(std::uint64_t& suppressed);

 private:
  std::int64_t interval_ns_;
  std::atomic<std::int64_t> next_ns_{0};
  std::atomic<std::uint64_t> suppressed_{0};
};

}  // namespace sluice
