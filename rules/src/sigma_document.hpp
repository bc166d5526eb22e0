// SPDX-License-Identifier: Apache-2.0
/// The typed intermediate form of a Sigma document, between YAML and lowering. Parsing
/// (`sigma_document.cpp`) fills it and validates everything it can without a mapping: the
/// modifiers exist and fit their values, the condition parses and names only defined search
/// identifiers. Lowering (`lower.cpp`) then needs no YAML and reports only mapping problems.
///
/// Compile-side only: nothing here is touched while scanning.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sluice::rules::detail {

/// Value modifiers of the Sigma modifiers appendix.
enum class Modifier : std::uint8_t {
  contains,
  startswith,
  endswith,
  all,
  re,
  re_i,
  re_m,
  re_s,
  base64,
  base64offset,
  utf16le,
  utf16be,
  utf16,
  windash,
  cidr,
  exists,
  gt,
  gte,
  lt,
  lte,
  neq,
  fieldref,
  cased,
  expand,
};

/// One value of a detection item, as written. `null` is its own type (spec: "Special Field
/// Values"); numbers and booleans arrive as their YAML text.
struct SigmaValue {
  std::string text;
  bool is_null = false;
};

/// `Field|mod1|mod2: values`. An empty `field` is a keyword item (search over the message).
struct DetectionItem {
  std::string field;
  std::vector<Modifier> modifiers;
  std::vector<SigmaValue> values;
  bool has(Modifier m) const {
    for (auto x : modifiers)
      if (x == m) return true;
    return false;
  }
};

/// A search identifier: an OR of alternatives, each an AND of items. A map is one alternative; a
/// list of maps is several; a list of plain values is one keyword item.
struct SearchIdentifier {
  std::string name;
  std::vector<std::vector<DetectionItem>> alternatives;
};

/// The condition's syntax tree (spec: "Condition"; precedence or < and < not < x of < ()).
struct ConditionNode {
  enum class Kind : std::uint8_t { and_, or_, not_, ref, one_of, all_of };
  Kind kind = Kind::ref;
  std::string name;  ///< identifier, or pattern for one_of/all_of ("them" for all)
  std::vector<ConditionNode> children;
};

/// A Sigma global filter (sigma-filters-specification.md): `rule and not filter` for each rule
/// it names by id or name.
struct SigmaFilter {
  std::string id;
  std::string title;
  std::string path;
  std::vector<std::string> rules;
  std::vector<SearchIdentifier> identifiers;
  ConditionNode condition;
};

struct LogSource {
  std::string product;
  std::string category;
  std::string service;
};

/// A detection rule after parsing and validation.
struct SigmaRule {
  std::string id;
  std::string name;
  std::string title;
  std::string status;
  std::string level;
  std::string description;
  std::vector<std::string> tags;
  std::string path;
  std::size_t line = 0;  ///< where the document starts (1-based)
  LogSource logsource;
  std::vector<SearchIdentifier> identifiers;
  ConditionNode condition;  ///< a list of conditions is folded into one `or_`
};

/// What one YAML document turned out to be.
struct ParsedDocument {
  enum class Kind : std::uint8_t { rule, filter, skipped, error, empty };
  Kind kind = Kind::empty;
  SigmaRule rule;
  SigmaFilter filter;
  std::string id;
  std::string title;
  std::string reason;    ///< for skipped and error
  std::string message;   ///< for skipped and error
  std::size_t line = 0;  ///< 1-based line of the problem, else of the document; 0 unknown
  /// Further problems of the same document (every bad item is reported, not just the first).
  struct Problem {
    bool skip;
    std::string reason;
    std::string message;
    std::size_t line;
  };
  std::vector<Problem> more;
};

/// Parses one YAML document (already merged with its `action: global` part). Never throws.
ParsedDocument parse_document(const YAML::Node& doc, const std::string& path);

/// Parses a condition string. Returns false and sets `error` on a syntax error.
bool parse_condition(const std::string& text, ConditionNode& out, std::string& error,
                     std::string& reason);

/// Parses every document of `text` (handling `action: global|reset|repeat`). Never throws;
/// a YAML syntax error becomes one `error` document.
std::vector<ParsedDocument> parse_documents(const std::string& text, const std::string& path);

/// Parses one search identifier (a map, a list of maps or a list of values), as the mapping
/// file's log source conditions use them. Never throws; false with `error` on a problem.
bool parse_search_identifier(const std::string& name, const YAML::Node& node, SearchIdentifier& out,
                             std::string& error);

/// Condition identifier patterns: `*` matches any run of characters.
bool identifier_matches(const std::string& pattern, const std::string& name);

/// Name as written in rules ("contains", "re", ...).
const char* to_string(Modifier m);

}  // namespace sluice::rules::detail
