// SPDX-License-Identifier: Apache-2.0
/// Test harness shared by the parser tests: parses lines with a fixed receive time through one
/// `Parser` and keeps the bytes alive for the events' views; also locates the source tree when
/// CTest did not pass `SLUICE_SOURCE_DIR` (then `tests_support` could find neither
/// `tests/data/hostile` nor `../shared/data`).
#pragma once

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <string>
#include <string_view>

#include "sluice/event/arena.hpp"
#include "sluice/event/event.hpp"
#include "sluice/parse/parser.hpp"
#include "sluice/parse/timestamp.hpp"

namespace sluice::test {

/// Nanoseconds since the epoch of a UTC civil time.
constexpr std::int64_t at(std::int64_t y, unsigned m, unsigned d, int hh = 0, int mm = 0,
                          int ss = 0) {
  return days_from_civil(y, m, d) * ns_per_day + (hh * 3600 + mm * 60 + ss) * ns_per_second;
}

/// The receive time used unless a test gives its own: 2026-02-10T12:00:00Z.
inline constexpr std::int64_t default_receive_ns = at(2026, 2, 10, 12);

/// Sets `SLUICE_SOURCE_DIR` from this file's location when the environment lacks it. Runs once,
/// before any test, from a static initialiser.
inline const bool source_dir_known = [] {
  if (std::getenv("SLUICE_SOURCE_DIR") == nullptr) {
    // <source>/tests/unit/parse/harness.hpp
    const auto root =
        std::filesystem::path(__FILE__).parent_path().parent_path().parent_path().parent_path();
    ::setenv("SLUICE_SOURCE_DIR", root.c_str(), 0);
  }
  return true;
}();

class Harness {
 public:
  explicit Harness(ParserConfig config = {}, std::int64_t receive_ns = default_receive_ns)
      : parser_(config), receive_ns_(receive_ns) {}
  explicit Harness(ParseFormat format, std::int64_t receive_ns = default_receive_ns)
      : Harness(with_format(format), receive_ns) {}

  /// Parses `line` as one record; the event's views stay valid for the harness's lifetime.
  Event parse(std::string_view line) {
    const std::string& stored = lines_.emplace_back(line);
    Event e;
    e.raw = stored;
    e.receive_time_ns = receive_ns_;
    parser_.parse(e, arena_);
    return e;
  }

 private:
  static ParserConfig with_format(ParseFormat format) {
    ParserConfig c;
    c.format = format;
    return c;
  }

  Parser parser_;
  Arena arena_;
  std::int64_t receive_ns_;
  std::deque<std::string> lines_;
};

}  // namespace sluice::test
