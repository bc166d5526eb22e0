// SPDX-License-Identifier: Apache-2.0
/// The search query language: its syntax tree and its parser. Read this before changing what a
/// query means; the matcher (matcher.hpp) and the test suite's brute-force reference evaluator
/// both implement exactly the semantics written here.
///
/// ## Syntax
///
/// ```
/// query      := [expr] { '|' pipe }
/// expr       := or
/// or         := and { 'OR' and }
/// and        := unary { ['AND'] unary }          juxtaposition is AND
/// unary      := 'NOT' unary | '(' expr ')' | term
/// term       := WORD | "PHRASE" | /REGEX/[i] | FIELD ':' (WORD | "PHRASE" | /REGEX/[i])
///             | 'earliest=' TIME | 'latest=' TIME
/// pipe       := 'count' ['by' FIELD] | 'top' N FIELD | 'timechart' 'span=' DURATION
/// ```
///
/// `AND`, `OR`, `NOT` and `by` are operators only in that spelling (upper case for the first
/// three); quote them to search for the words. `*` alone matches every event. A WORD is a run of
/// bytes up to white space, `(`, `)`, `|` or `"`; a WORD of the form `name:value` whose name starts
/// with a letter, `_` or `@` and continues with letters, digits, `_`, `.`, `@` or `-` is a field
/// term. A phrase takes `\"` and `\\` as escapes.
///
/// ## Meaning
///
/// - **Free text** (a WORD or a phrase without a field): the text occurs in the event's raw line,
///   compared ASCII case-insensitively, and word-bounded: the byte before the occurrence (if any)
///   and the byte after it (if any) are not token bytes ([A-Za-z0-9_], see store/tokens.hpp).
///   This is `LC_ALL=C grep -iwF TEXT` on the raw line.
/// - **Wildcards** (`*`, `?` in a WORD): `*` stands for any run of token bytes (also empty), `?`
///   for exactly one token byte; the rest as free text (word-bounded, case-insensitive). So
///   `fail*` finds `failed` and `fail`, and `10.0.*` finds `10.0.3` in `10.0.3.4`.
/// - **Regex** `/re/`: a Hyperscan (PCRE-syntax) search anywhere in the raw line; `/re/i` ignores
///   case. Regexes are not word-bounded.
/// - **Field terms** `name:value`: the field's value (see event_fields.hpp for the names) is
///   compared as a whole, case-insensitively; with wildcards `*` stands for any bytes and `?` for
///   one byte. `message:` and `raw:` are the exception: they search their text like free text. A
///   value of the form `ADDRESS/BITS` (IPv4 or IPv6) is a CIDR range, and on `source.ip` a bare
///   address is compared as an address. A regex value searches the field's value. An event
///   without the field (or with it empty) never matches a field term.
/// - **Time bounds** `earliest=T` and `latest=T` (T as for `parse_time_ns`: RFC 3339, `-1h`,
///   `now`, `@SECONDS`) limit the search to events at or after `earliest` and before `latest`,
///   like `--from`/`--to` (both apply: the narrower wins). They may only stand at the top level of
///   the query (ANDed with the rest), not inside parentheses, OR or NOT.
/// - **Pipes**: `count` (the number of matching events), `count by FIELD` (events per value of
///   FIELD, most frequent first; events without the field are not counted), `top N FIELD` (the N
///   most frequent values), `timechart span=D` (events per time bucket of width D, aligned to
///   the epoch). `template` is a field: `count by template` groups by the miner's template id.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/search/event_fields.hpp"

namespace sluice::search {

/// What a term compares.
enum class TermKind : std::uint8_t {
  text,      ///< literal text (a WORD without wildcards, or a phrase)
  wildcard,  ///< a WORD with `*` or `?`
  regex,     ///< `/re/`
  cidr,      ///< an address range (field terms only)
};

/// An IPv4 or IPv6 prefix; IPv4 is kept as its 4 bytes.
struct Cidr {
  std::uint8_t family = 0;  ///< 4 or 6
  std::array<std::uint8_t, 16> address{};
  unsigned bits = 0;  ///< prefix length
  /// True when `text` (an address, no prefix) lies in the range.
  bool contains(std::string_view text) const;
};

/// Parses "a.b.c.d", an IPv6 address, or either with "/bits". A missing prefix means the whole
/// address. nullopt when not an address.
std::optional<Cidr> parse_cidr(std::string_view text);

/// One leaf of the query.
struct Term {
  TermKind kind = TermKind::text;
  std::optional<FieldRef> field;  ///< none: free text on the raw line
  std::string value;              ///< the text, the pattern, or the regex (unescaped)
  bool caseless = true;           ///< regex: `/re/i`; other kinds always compare without case
  Cidr cidr;                      ///< kind == cidr
  std::size_t column = 1;         ///< 1-based column of the term in the query, for errors
};

/// A node of the boolean expression tree.
struct Expr {
  enum class Op : std::uint8_t { all, term, and_, or_, not_ };
  Op op = Op::all;
  Term term;                   ///< op == term
  std::vector<Expr> children;  ///< and_/or_: two or more; not_: one
  /// Set on an `earliest=`/`latest=` term while parsing (an `all` node, removed from the tree
  /// before the parser returns).
  bool time_bound = false;
};

/// The aggregation a pipe asks for.
struct Aggregation {
  enum class Kind : std::uint8_t { none, count, count_by, top, timechart };
  Kind kind = Kind::none;
  FieldRef field;            ///< count_by and top
  std::string field_name;    ///< as written, for output headers
  std::size_t top_n = 10;    ///< top
  std::int64_t span_ns = 0;  ///< timechart
};

/// A parsed query.
struct Query {
  Expr root;  ///< Op::all when the query has no expression
  Aggregation aggregation;
  /// `earliest=` / `latest=` as written (checked to parse; resolve with `parse_time_ns`).
  std::optional<std::string> earliest, latest;
  std::string text;  ///< the query as written
};

/// Where and why a query does not parse (or compile).
struct QueryError {
  std::size_t column = 1;  ///< 1-based byte column in the query
  std::string message;
};

/// "error at column C: MESSAGE" plus the query and a caret under column C, on three lines.
std::string format_query_error(std::string_view query, const QueryError& error);

/// The outcome of `parse_query`: a query or an error.
struct ParseResult {
  std::optional<Query> query;
  QueryError error;  ///< meaningful when `query` is empty
};

/// Parses `text`. Never throws; every problem becomes an error with its column. Allocates.
ParseResult parse_query(std::string_view text);

/// Parses a duration: a positive integer with a unit `s`, `m`, `h`, `d` or `w` ("15m"), or
/// `ms`. nullopt when malformed.
std::optional<std::int64_t> parse_duration_ns(std::string_view text);

/// Parses a point in time: RFC 3339 ("2026-11-28T06:55:46Z", fraction and offset optional, a
/// space instead of `T` accepted, a bare date meaning midnight UTC), `now`, a relative time
/// `-15m` / `-2h` / `-1d` (before `now_ns`), or an integer of seconds since the epoch with a
/// leading `@`. nullopt when malformed.
std::optional<std::int64_t> parse_time_ns(std::string_view text, std::int64_t now_ns);

}  // namespace sluice::search
