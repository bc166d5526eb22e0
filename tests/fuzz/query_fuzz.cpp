// SPDX-License-Identifier: Apache-2.0
/// Fuzz target: the query parser and matcher on arbitrary text. Checks that a rejected query has
/// an error column inside the query (or just past it) and a message, that the caret rendering
/// works, and that an accepted query compiles or fails with a column; then runs the compiled
/// query on an event whose raw line is the input itself and compares the Hyperscan path with the
/// naive word matchers (query.hpp semantics) wherever the query has no regex.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sluice/search/matcher.hpp"
#include "sluice/search/query.hpp"
#include "sluice/store/tokens.hpp"

namespace {

using namespace sluice::search;

/// Naive evaluation for raw-line terms; false in `known` when a regex or field term is met.
bool naive(const Expr& e, std::string_view raw, bool& known) {
  switch (e.op) {
    case Expr::Op::all:
      return true;
    case Expr::Op::term:
      if (e.term.field || e.term.kind == TermKind::regex || e.term.kind == TermKind::cidr) {
        known = false;
        return false;
      }
      return e.term.kind == TermKind::wildcard ? contains_wildcard_word(raw, e.term.value)
                                               : contains_word(raw, e.term.value);
    case Expr::Op::and_: {
      bool all = true;
      for (const auto& c : e.children)
        all = naive(c, raw, known) && all;
      return all;
    }
    case Expr::Op::or_: {
      bool any = false;
      for (const auto& c : e.children)
        any = naive(c, raw, known) || any;
      return any;
    }
    case Expr::Op::not_:
      return !naive(e.children[0], raw, known);
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Hyperscan compile time grows with pattern size; queries are typed by people.
  if (size > 512) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_query(text);
  if (!parsed.query) {
    if (parsed.error.column < 1 || parsed.error.column > size + 1) std::abort();
    if (parsed.error.message.empty()) std::abort();
    const std::string shown = format_query_error(text, parsed.error);
    if (shown.find('^') == std::string::npos) std::abort();
    return 0;
  }
  QueryError error;
  auto compiled = CompiledQuery::compile(*parsed.query, error);
  if (!compiled) {
    if (error.column < 1 || error.column > size + 1 || error.message.empty()) std::abort();
    return 0;
  }
  sluice::StoredEvent ev;
  ev.event.raw = text;
  ev.event.message = text;
  ev.event.host = "web01";
  auto matcher = compiled->make_matcher();
  const bool got = matcher->matches(ev);
  bool known = true;
  const bool want = naive(parsed.query->root, text, known);
  if (known && got != want) std::abort();
  // Pruning must never rule out a block that holds the event: a filter that holds every token
  // of the line must satisfy the requirement whenever the event matches.
  if (got) {
    const bool may = compiled->token_requirement().satisfied([&](std::string_view token) {
      bool found = false;
      sluice::for_each_token(text, [&](std::string_view t) { found = found || iequals(t, token); });
      // host is indexed too.
      return found || iequals(token, "web01");
    });
    if (!may) std::abort();
  }
  return 0;
}
