// SPDX-License-Identifier: Apache-2.0
/// The parser contract every parser fuzz target checks on every input: never crash, never leave
/// an event pending, a reason exactly when unparsed, no fields on an unparsed event, and every
/// syslog header view inside the input.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sluice/event/arena.hpp"
#include "sluice/parse/parser.hpp"

namespace sluice::fuzz {

inline bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

/// Parses `data` with a parser for `format` (one per format, kept across calls, as a worker
/// keeps its own) and aborts when the contract is broken.
template <ParseFormat format>
int check_parser_contract(const std::uint8_t* data, std::size_t size) {
  static Parser parser([] {
    ParserConfig c;
    c.format = format;
    return c;
  }());
  static Arena arena;
  arena.reset();
  Event e;
  e.raw = std::string_view(reinterpret_cast<const char*>(data), size);
  e.receive_time_ns = 1'770'000'000'000'000'000;
  parser.parse(e, arena);
  if (e.status == ParseStatus::pending) std::abort();
  if ((e.status == ParseStatus::unparsed) != (e.reason != UnparsedReason::none)) std::abort();
  if (e.status == ParseStatus::unparsed && (!e.fields.empty() || !e.message.empty())) std::abort();
  // Syslog header views are never rewritten, so they must lie inside the raw bytes (JSON
  // values point into the parser's padded copy or the arena instead).
  if (e.format != InputFormat::json)
    for (std::string_view v : {e.host, e.procid, e.msgid, e.structured_data})
      if (!inside(v, e.raw)) std::abort();
  for (const auto& f : e.fields) {
    volatile char sink = 0;
    for (char c : f.name)
      sink = static_cast<char>(sink ^ c);
    for (char c : f.value)
      sink = static_cast<char>(sink ^ c);
  }
  return 0;
}

}  // namespace sluice::fuzz
