// SPDX-License-Identifier: Apache-2.0
/// `CompiledQuery`: a parsed query made ready to run. Free-text, wildcard and regex terms on the
/// raw line become one Hyperscan database scanned once per event; field terms are checked on the
/// decoded event; the boolean tree is then evaluated on the results. Semantics: query.hpp.
///
/// Compile side and scan side are split the Hyperscan way: a `CompiledQuery` is immutable and
/// shared by every thread; each thread makes its own `Matcher` (which owns a Hyperscan scratch).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/search/query.hpp"
#include "sluice/store/segment_format.hpp"

namespace sluice::search {

namespace detail {
struct CompiledState;
}

/// What a block filter must hold for the query to possibly match: a tree of AND/OR over tokens.
/// `any` is a node that cannot prune (regex, NOT, numeric fields).
struct TokenRequirement {
  enum class Op : std::uint8_t { any, tokens, and_, or_ };
  Op op = Op::any;
  std::vector<std::string> tokens;  ///< op == tokens: every one must be present (lower case)
  std::vector<TokenRequirement> children;

  /// True when a block whose filter answers `may_contain(std::string_view lower_token)` may hold
  /// a match.
  template <typename MayContain>
  bool satisfied(MayContain&& may_contain) const {
    switch (op) {
      case Op::any:
        return true;
      case Op::tokens:
        for (const auto& t : tokens)
          if (!may_contain(std::string_view(t))) return false;
        return true;
      case Op::and_:
        for (const auto& c : children)
          if (!c.satisfied(may_contain)) return false;
        return true;
      case Op::or_:
        for (const auto& c : children)
          if (c.satisfied(may_contain)) return true;
        return false;
    }
    return true;
  }
};

/// A field value every matching event must have, usable against per-block dictionaries: the
/// query is an AND whose child `field:value` (plain text, no wildcards) has this field.
struct RequiredValue {
  FieldId field;
  std::string value;  ///< compared case-insensitively with whole values
};

class Matcher;

/// The immutable, shareable form of a query.
class CompiledQuery {
 public:
  /// Compiles `query`. A regex Hyperscan rejects gives an error at the regex's column.
  static std::unique_ptr<CompiledQuery> compile(const Query& query, QueryError& error);
  ~CompiledQuery();
  CompiledQuery(const CompiledQuery&) = delete;
  CompiledQuery& operator=(const CompiledQuery&) = delete;

  const Query& query() const { return query_; }
  /// True when every event matches (no expression, or `*`).
  bool matches_everything() const { return query_.root.op == Expr::Op::all; }
  /// True when the expression reads nothing but the raw line (free text, phrases, wildcards and
  /// regexes without a field): a matcher then needs only `event.raw` of the events it is given.
  bool raw_only() const { return raw_only_; }
  /// The token filter requirement of the whole expression.
  const TokenRequirement& token_requirement() const { return tokens_; }
  /// Field values every match must carry (for dictionary pruning); may be empty.
  const std::vector<RequiredValue>& required_values() const { return required_; }

  /// A matcher for one thread. Allocates (Hyperscan scratch); call once per thread, not per event.
  std::unique_ptr<Matcher> make_matcher() const;

 private:
  friend class Matcher;
  CompiledQuery() = default;
  Query query_;
  TokenRequirement tokens_;
  std::vector<RequiredValue> required_;
  bool raw_only_ = false;
  std::unique_ptr<detail::CompiledState> state_;
};

/// Evaluates a compiled query on events. Not thread-safe: one per thread. Keeps a pointer to its
/// `CompiledQuery`, which must outlive it.
class Matcher {
 public:
  ~Matcher();
  Matcher(const Matcher&) = delete;
  Matcher& operator=(const Matcher&) = delete;
  /// True when `event` matches the query's expression (time ranges are the caller's). Does not
  /// allocate. A Hyperscan scan error (not expected once compiled) counts as no match and is
  /// counted in `scan_errors()`.
  bool matches(const StoredEvent& event);
  std::uint64_t scan_errors() const { return scan_errors_; }

 private:
  friend class CompiledQuery;
  explicit Matcher(const CompiledQuery& query);
  struct Scratch;
  const CompiledQuery& query_;
  std::unique_ptr<Scratch> scratch_;
  std::uint64_t scan_errors_ = 0;
};

/// True when `text` contains `needle` case-insensitively (ASCII) and word-bounded (query.hpp).
/// Does not allocate.
bool contains_word(std::string_view text, std::string_view needle);

/// True when some word-bounded, case-insensitive occurrence in `text` matches `pattern`, where
/// `*` stands for any run of token bytes and `?` for one (query.hpp, wildcards). Does not allocate.
bool contains_wildcard_word(std::string_view text, std::string_view pattern);

/// True when the whole of `value` matches `pattern` case-insensitively, `*` standing for any
/// bytes and `?` for one byte. Does not allocate.
bool glob_matches(std::string_view value, std::string_view pattern);

/// ASCII case-insensitive equality.
bool iequals(std::string_view a, std::string_view b);

}  // namespace sluice::search
