// SPDX-License-Identifier: Apache-2.0
/// YAML → typed Sigma documents, and validation. yaml-cpp throws; every call into it happens
/// inside `parse_documents`/`parse_document`, which turn exceptions into `error` documents, so
/// nothing thrown here leaves this file.
///
/// Implements the Sigma rules specification v2.1.0 (detection, condition), the filters
/// specification (global filters), and the legacy multi-document `action: global|reset|repeat`
/// collections of Sigma 1.x (the first document's content is merged into each later one).
#include "sigma_document.hpp"

#include <algorithm>
#include <cctype>
#include <exception>

namespace sluice::rules::detail {
namespace {

struct ModifierName {
  const char* name;
  Modifier modifier;
};

constexpr ModifierName modifier_names[] = {
    {"contains", Modifier::contains},
    {"startswith", Modifier::startswith},
    {"endswith", Modifier::endswith},
    {"all", Modifier::all},
    {"re", Modifier::re},
    {"i", Modifier::re_i},
    {"m", Modifier::re_m},
    {"s", Modifier::re_s},
    {"base64", Modifier::base64},
    {"base64offset", Modifier::base64offset},
    {"utf16le", Modifier::utf16le},
    {"utf16be", Modifier::utf16be},
    {"utf16", Modifier::utf16},
    {"wide", Modifier::utf16le},
    {"windash", Modifier::windash},
    {"cidr", Modifier::cidr},
    {"exists", Modifier::exists},
    {"gt", Modifier::gt},
    {"gte", Modifier::gte},
    {"lt", Modifier::lt},
    {"lte", Modifier::lte},
    {"neq", Modifier::neq},
    {"fieldref", Modifier::fieldref},
    {"cased", Modifier::cased},
    {"expand", Modifier::expand},
};

/// Modifiers of the appendix that this engine does not implement (time parts need a parsed
/// timestamp field, which events do not carry per field).
constexpr const char* unsupported_modifiers[] = {"minute", "hour", "day", "week", "month", "year"};

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string scalar(const YAML::Node& n) {
  if (n && n.IsScalar()) return n.Scalar();
  return {};
}

/// Thrown only inside this file and caught in `parse_document`: a rule-level problem with a
/// fixed reason. It never crosses the file boundary.
struct RuleProblem {
  bool skip;  ///< true: valid but unsupported (skipped); false: malformed (error)
  std::string reason;
  std::string message;
  std::size_t line = 0;  ///< 1-based, 0 until a caller that knows the node sets it
};

/// 1-based line of a node, 0 when yaml-cpp has none.
std::size_t line_of(const YAML::Node& n) {
  if (!n) return 0;
  const YAML::Mark m = n.Mark();
  return m.line >= 0 ? static_cast<std::size_t>(m.line) + 1 : 0;
}

[[noreturn]] void fail(std::string reason, std::string message) {
  throw RuleProblem{false, std::move(reason), std::move(message)};
}
[[noreturn]] void skip(std::string reason, std::string message) {
  throw RuleProblem{true, std::move(reason), std::move(message)};
}

SigmaValue to_value(const YAML::Node& n, const std::string& where) {
  SigmaValue v;
  if (!n || n.IsNull()) {
    v.is_null = true;
    return v;
  }
  if (!n.IsScalar())
    fail("invalid value", where + ": values must be scalars, not maps or nested lists");
  v.text = n.Scalar();
  return v;
}

std::vector<Modifier> parse_modifiers(const std::vector<std::string>& names,
                                      const std::string& key) {
  std::vector<Modifier> out;
  for (const auto& raw : names) {
    const std::string name = lower(raw);
    bool found = false;
    for (const auto& m : modifier_names) {
      if (name == m.name) {
        out.push_back(m.modifier);
        found = true;
        break;
      }
    }
    if (found) continue;
    for (const char* u : unsupported_modifiers)
      if (name == u)
        skip("unsupported modifier",
             "modifier '" + raw + "' in '" + key + "' (time part modifiers) is not supported");
    fail("unknown modifier", "unknown modifier '" + raw + "' in '" + key + "'");
  }
  return out;
}

bool is_number(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end && *end == '\0';
}

void validate_item(const DetectionItem& item, const std::string& key) {
  const bool is_re = item.has(Modifier::re);
  int numeric = 0;
  for (auto m : {Modifier::gt, Modifier::gte, Modifier::lt, Modifier::lte})
    if (item.has(m)) ++numeric;
  for (auto m : {Modifier::re_i, Modifier::re_m, Modifier::re_s})
    if (item.has(m) && !is_re)
      fail("invalid modifier", "'" + key + "': regex flag modifier without |re");
  if (is_re) {
    for (auto m : {Modifier::contains, Modifier::startswith, Modifier::endswith, Modifier::base64,
                   Modifier::base64offset, Modifier::utf16le, Modifier::utf16be, Modifier::utf16,
                   Modifier::windash, Modifier::cidr})
      if (item.has(m))
        fail("invalid modifier",
             "'" + key + "': |" + to_string(m) + " cannot be combined with |re");
  }
  if (item.has(Modifier::exists)) {
    if (item.field.empty()) fail("invalid modifier", "'" + key + "': |exists needs a field");
    if (item.values.size() != 1 || item.values[0].is_null)
      fail("invalid value", "'" + key + "': |exists takes one value, true or false");
    auto t = lower(item.values[0].text);
    if (t != "true" && t != "false" && t != "yes" && t != "no")
      fail("invalid value",
           "'" + key + "': |exists takes true or false, not '" + item.values[0].text + "'");
  }
  if (numeric > 1) fail("invalid modifier", "'" + key + "': more than one of gt/gte/lt/lte");
  if (numeric) {
    for (const auto& v : item.values)
      if (v.is_null || !is_number(v.text))
        fail("invalid value",
             "'" + key + "': numeric comparison needs a number, not '" + v.text + "'");
  }
  if (item.field.empty() && (item.has(Modifier::fieldref) || item.has(Modifier::cidr) || numeric))
    fail("invalid modifier", "'" + key + "': keyword items cannot use field modifiers");
  if (item.values.empty()) fail("invalid value", "'" + key + "': empty value list");
  if (item.values.size() > 1)
    for (const auto& v : item.values)
      if (v.is_null)
        fail("invalid value",
             "'" + key + "': null cannot be part of a list of values (spec: Special Field Values)");
  for (const auto& v : item.values)
    if (v.is_null && item.modifiers.size() > 0 && !item.has(Modifier::cased))
      fail("invalid value", "'" + key + "': null cannot take modifiers");
}

DetectionItem make_item(const std::string& key, const YAML::Node& value) {
  DetectionItem item;
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    auto bar = key.find('|', start);
    parts.push_back(key.substr(start, bar == std::string::npos ? std::string::npos : bar - start));
    if (bar == std::string::npos) break;
    start = bar + 1;
  }
  item.field = parts[0];
  item.modifiers = parse_modifiers({parts.begin() + 1, parts.end()}, key);
  if (value && value.IsSequence()) {
    for (const auto& v : value)
      item.values.push_back(to_value(v, key));
  } else {
    item.values.push_back(to_value(value, key));
  }
  validate_item(item, key);
  return item;
}

/// While a rule document is parsed, item and identifier problems are collected here instead of
/// ending the parse, so one `sluice rules check` run shows all of a rule's problems. Null outside
/// `parse_document` (the mapping file's conditions stop at the first problem).
thread_local std::vector<RuleProblem>* t_problems = nullptr;

std::vector<DetectionItem> parse_map(const YAML::Node& map, const std::string& name) {
  std::vector<DetectionItem> items;
  bool any_key = false;
  for (const auto& kv : map) {
    any_key = true;
    const std::string key = kv.first.as<std::string>();
    try {
      if (kv.second && kv.second.IsMap())
        fail("invalid detection",
             "search identifier '" + name + "': field '" + key + "' has a map as value");
      items.push_back(make_item(key, kv.second));
    } catch (RuleProblem& p) {
      if (!p.line) p.line = line_of(kv.first);
      if (!t_problems) throw;
      t_problems->push_back(std::move(p));
    }
  }
  if (!any_key) fail("invalid detection", "search identifier '" + name + "' is empty");
  return items;
}

SearchIdentifier parse_identifier(const std::string& name, const YAML::Node& node) {
  SearchIdentifier id;
  id.name = name;
  if (node.IsMap()) {
    id.alternatives.push_back(parse_map(node, name));
  } else if (node.IsSequence()) {
    DetectionItem keywords;
    for (const auto& element : node) {
      if (element.IsMap()) {
        id.alternatives.push_back(parse_map(element, name));
      } else if (element.IsSequence()) {
        fail("invalid detection", "search identifier '" + name + "' contains a nested list");
      } else {
        keywords.values.push_back(to_value(element, name));
      }
    }
    if (!keywords.values.empty()) {
      validate_item(keywords, name);
      id.alternatives.push_back({std::move(keywords)});
    }
    if (id.alternatives.empty())
      fail("invalid detection", "search identifier '" + name + "' is an empty list");
  } else if (node.IsScalar()) {
    DetectionItem keywords;
    keywords.values.push_back(to_value(node, name));
    id.alternatives.push_back({std::move(keywords)});
  } else {
    fail("invalid detection", "search identifier '" + name + "' is null");
  }
  return id;
}

// ---- condition parser ----------------------------------------------------------------------

struct ConditionParser {
  std::vector<std::string> tokens;
  std::size_t pos = 0;
  std::string error;
  std::string reason = "invalid condition";
  int depth = 0;
  static constexpr int max_depth = 200;

  bool tokenize(const std::string& text) {
    std::size_t i = 0;
    while (i < text.size()) {
      char c = text[i];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i;
      } else if (c == '(' || c == ')') {
        tokens.emplace_back(1, c);
        ++i;
      } else if (c == '|') {
        reason = "aggregation";
        error = "aggregation expressions (`| count() ...`) are deprecated; use a correlation rule";
        return false;
      } else {
        std::size_t j = i;
        while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j])) &&
               text[j] != '(' && text[j] != ')' && text[j] != '|')
          ++j;
        tokens.push_back(text.substr(i, j - i));
        if (lower(tokens.back()) == "near") {
          reason = "aggregation";
          error = "'near' is not part of Sigma v2; use a temporal correlation rule";
          return false;
        }
        i = j;
      }
    }
    return true;
  }
  bool at(const char* word) const { return pos < tokens.size() && lower(tokens[pos]) == word; }
  bool parse_or(ConditionNode& out) {
    ConditionNode first;
    if (!parse_and(first)) return false;
    if (!at("or")) {
      out = std::move(first);
      return true;
    }
    out = ConditionNode{ConditionNode::Kind::or_, {}, {}};
    out.children.push_back(std::move(first));
    while (at("or")) {
      ++pos;
      ConditionNode next;
      if (!parse_and(next)) return false;
      out.children.push_back(std::move(next));
    }
    return true;
  }
  bool parse_and(ConditionNode& out) {
    ConditionNode first;
    if (!parse_not(first)) return false;
    if (!at("and")) {
      out = std::move(first);
      return true;
    }
    out = ConditionNode{ConditionNode::Kind::and_, {}, {}};
    out.children.push_back(std::move(first));
    while (at("and")) {
      ++pos;
      ConditionNode next;
      if (!parse_not(next)) return false;
      out.children.push_back(std::move(next));
    }
    return true;
  }
  bool parse_not(ConditionNode& out) {
    // Recursion depth follows nesting; a bound keeps hostile conditions from exhausting the
    // stack. Real rules nest a handful of levels.
    if (++depth > max_depth) {
      error = "condition nested deeper than " + std::to_string(max_depth) + " levels";
      return false;
    }
    struct Leave {
      int& d;
      ~Leave() { --d; }
    } leave{depth};
    if (at("not")) {
      ++pos;
      ConditionNode inner;
      if (!parse_not(inner)) return false;
      out = ConditionNode{ConditionNode::Kind::not_, {}, {}};
      out.children.push_back(std::move(inner));
      return true;
    }
    return parse_primary(out);
  }
  bool parse_primary(ConditionNode& out) {
    if (pos >= tokens.size()) {
      error = "unexpected end of condition";
      return false;
    }
    const std::string tok = tokens[pos];
    const std::string low = lower(tok);
    if (tok == "(") {
      ++pos;
      if (!parse_or(out)) return false;
      if (!at(")")) {
        error = "missing ')'";
        return false;
      }
      ++pos;
      return true;
    }
    if (tok == ")" || low == "and" || low == "or" || low == "of") {
      error = "unexpected '" + tok + "'";
      return false;
    }
    if (pos + 1 < tokens.size() && lower(tokens[pos + 1]) == "of") {
      if (low != "1" && low != "all" && low != "any") {
        error = "'" + tok + " of' is not supported; use '1 of' or 'all of'";
        return false;
      }
      pos += 2;
      if (pos >= tokens.size() || tokens[pos] == "(" || tokens[pos] == ")") {
        error = "'" + tok + " of' needs an identifier pattern or 'them'";
        return false;
      }
      out = ConditionNode{low == "all" ? ConditionNode::Kind::all_of : ConditionNode::Kind::one_of,
                          tokens[pos],
                          {}};
      ++pos;
      return true;
    }
    if (low == "near") {
      reason = "aggregation";
      error = "'near' is not part of Sigma v2; use a temporal correlation rule";
      return false;
    }
    out = ConditionNode{ConditionNode::Kind::ref, tok, {}};
    ++pos;
    return true;
  }
};

bool glob_match(const std::string& pattern, const std::string& s) {
  // Identifier patterns in conditions: `*` matches any run of characters (spec: "1/all of
  // search-identifier-pattern").
  std::size_t p = 0, i = 0, star = std::string::npos, mark = 0;
  while (i < s.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = i;
    } else if (p < pattern.size() && pattern[p] == s[i]) {
      ++p;
      ++i;
    } else if (star != std::string::npos) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*')
    ++p;
  return p == pattern.size();
}

void check_references(const ConditionNode& node, const std::vector<SearchIdentifier>& ids) {
  using K = ConditionNode::Kind;
  switch (node.kind) {
    case K::ref: {
      for (const auto& id : ids)
        if (id.name == node.name) return;
      fail("invalid condition",
           "condition names '" + node.name + "', which is not a search identifier");
    }
    case K::one_of:
    case K::all_of: {
      if (node.name == "them") return;
      for (const auto& id : ids)
        if (glob_match(node.name, id.name)) return;
      fail("invalid condition",
           "condition pattern '" + node.name + "' matches no search identifier");
    }
    default:
      for (const auto& c : node.children)
        check_references(c, ids);
  }
}

ConditionNode parse_conditions_at(const YAML::Node& cond);

ConditionNode parse_conditions(const YAML::Node& cond) {
  try {
    return parse_conditions_at(cond);
  } catch (RuleProblem& p) {
    if (!p.line) p.line = line_of(cond);
    throw;
  }
}

ConditionNode parse_conditions_at(const YAML::Node& cond) {
  std::vector<std::string> texts;
  if (cond.IsSequence()) {
    for (const auto& c : cond)
      texts.push_back(scalar(c));
  } else if (cond.IsScalar()) {
    texts.push_back(cond.Scalar());
  } else {
    fail("invalid condition", "condition must be a string or a list of strings");
  }
  ConditionNode out{ConditionNode::Kind::or_, {}, {}};
  for (const auto& t : texts) {
    ConditionNode node;
    std::string error, reason;
    if (!parse_condition(t, node, error, reason)) {
      if (reason == "aggregation") skip(reason, "condition '" + t + "': " + error);
      fail(reason, "condition '" + t + "': " + error);
    }
    out.children.push_back(std::move(node));
  }
  if (out.children.size() == 1) return std::move(out.children[0]);
  return out;
}

std::vector<SearchIdentifier> parse_identifiers(const YAML::Node& detection,
                                                std::initializer_list<const char*> reserved) {
  std::vector<SearchIdentifier> ids;
  for (const auto& kv : detection) {
    const std::string name = kv.first.as<std::string>();
    bool is_reserved = false;
    for (const char* r : reserved)
      if (name == r) is_reserved = true;
    if (is_reserved) continue;
    try {
      ids.push_back(parse_identifier(name, kv.second));
    } catch (RuleProblem& p) {
      if (!p.line) p.line = line_of(kv.first);
      if (!t_problems) throw;
      t_problems->push_back(std::move(p));
      ids.push_back(SearchIdentifier{name, {}});  // keeps condition references resolvable
    }
  }
  return ids;
}

void merge_into(YAML::Node target, const YAML::Node& source) {
  for (const auto& kv : source) {
    const std::string key = kv.first.as<std::string>();
    if (kv.second.IsMap() && target[key] && target[key].IsMap()) {
      merge_into(target[key], kv.second);
    } else {
      target[key] = YAML::Clone(kv.second);
    }
  }
}

std::vector<std::string> string_list(const YAML::Node& n) {
  std::vector<std::string> out;
  if (!n) return out;
  if (n.IsSequence()) {
    for (const auto& x : n)
      out.push_back(scalar(x));
  } else if (n.IsScalar()) {
    out.push_back(n.Scalar());
  }
  return out;
}

}  // namespace

const char* to_string(Modifier m) {
  for (const auto& x : modifier_names)
    if (x.modifier == m) return x.name;
  return "?";
}

bool parse_condition(const std::string& text, ConditionNode& out, std::string& error,
                     std::string& reason) {
  ConditionParser p;
  if (!p.tokenize(text)) {
    error = p.error;
    reason = p.reason;
    return false;
  }
  if (p.tokens.empty()) {
    error = "empty condition";
    reason = p.reason;
    return false;
  }
  if (!p.parse_or(out)) {
    error = p.error;
    reason = p.reason;
    return false;
  }
  if (p.pos != p.tokens.size()) {
    error = "unexpected '" + p.tokens[p.pos] + "'";
    reason = p.reason;
    return false;
  }
  return true;
}

bool parse_search_identifier(const std::string& name, const YAML::Node& node, SearchIdentifier& out,
                             std::string& error) {
  try {
    out = parse_identifier(name, node);
    return true;
  } catch (const RuleProblem& p) {
    error = p.message;
  } catch (const YAML::Exception& e) {
    error = e.what();
  }
  return false;
}

ParsedDocument parse_document(const YAML::Node& doc, const std::string& path) {
  ParsedDocument out;
  std::vector<RuleProblem> problems;
  t_problems = &problems;
  struct Reset {
    ~Reset() { t_problems = nullptr; }
  } reset;
  try {
    if (!doc || doc.IsNull()) return out;
    out.line = line_of(doc);
    if (!doc.IsMap()) {
      out.kind = ParsedDocument::Kind::error;
      out.reason = "invalid document";
      out.message = "a Sigma document must be a YAML map";
      return out;
    }
    out.id = scalar(doc["id"]);
    out.title = scalar(doc["title"]);
    if (doc["correlation"]) {
      out.kind = ParsedDocument::Kind::skipped;
      out.reason = "correlation";
      out.message = "correlation: handled by the correlation engine (not yet)";
      return out;
    }
    if (doc["filter"] && !doc["detection"]) {
      const YAML::Node f = doc["filter"];
      if (!f.IsMap()) fail("invalid filter", "'filter' must be a map");
      SigmaFilter filter;
      filter.id = out.id;
      filter.title = out.title;
      filter.path = path;
      filter.rules = string_list(f["rules"]);
      if (filter.rules.empty()) fail("invalid filter", "filter names no rules ('filter.rules')");
      if (!f["condition"]) fail("invalid filter", "filter has no 'condition'");
      filter.identifiers = parse_identifiers(f, {"rules", "condition"});
      filter.condition = parse_conditions(f["condition"]);
      check_references(filter.condition, filter.identifiers);
      out.kind = ParsedDocument::Kind::filter;
      out.filter = std::move(filter);
      return out;
    }
    SigmaRule rule;
    rule.id = out.id;
    rule.title = out.title;
    rule.name = scalar(doc["name"]);
    rule.path = path;
    rule.line = out.line;
    rule.status = lower(scalar(doc["status"]));
    rule.level = lower(scalar(doc["level"]));
    rule.description = scalar(doc["description"]);
    rule.tags = string_list(doc["tags"]);
    if (rule.title.empty()) fail("missing title", "the rule has no 'title'");
    const YAML::Node ls = doc["logsource"];
    if (!ls || !ls.IsMap()) fail("missing logsource", "the rule has no 'logsource' map");
    rule.logsource.product = lower(scalar(ls["product"]));
    rule.logsource.category = lower(scalar(ls["category"]));
    rule.logsource.service = lower(scalar(ls["service"]));
    const YAML::Node det = doc["detection"];
    if (!det || !det.IsMap()) fail("missing detection", "the rule has no 'detection' map");
    if (!det["condition"]) fail("missing condition", "'detection' has no 'condition'");
    rule.identifiers = parse_identifiers(det, {"condition", "timeframe"});
    rule.condition = parse_conditions(det["condition"]);
    try {
      check_references(rule.condition, rule.identifiers);
    } catch (RuleProblem& p) {
      p.line = line_of(det["condition"]);
      throw;
    }
    out.kind = ParsedDocument::Kind::rule;
    out.rule = std::move(rule);
  } catch (RuleProblem& p) {
    problems.push_back(std::move(p));
  } catch (const YAML::Exception& e) {
    out.kind = ParsedDocument::Kind::error;
    out.reason = "invalid yaml";
    out.message = e.what();
    if (e.mark.line >= 0) out.line = static_cast<std::size_t>(e.mark.line) + 1;
  } catch (const std::exception& e) {
    out.kind = ParsedDocument::Kind::error;
    out.reason = "invalid document";
    out.message = e.what();
  }
  if (!problems.empty()) {
    // The first error is the rule's diagnostic (a rule with any error is malformed); the rest
    // travel along in `more`.
    std::size_t primary = 0;
    for (std::size_t i = 0; i < problems.size(); ++i) {
      if (!problems[i].skip) {
        primary = i;
        break;
      }
    }
    const bool already_error = out.kind == ParsedDocument::Kind::error;
    if (!already_error) {
      const RuleProblem& p = problems[primary];
      out.kind = p.skip ? ParsedDocument::Kind::skipped : ParsedDocument::Kind::error;
      out.reason = p.reason;
      out.message = p.message;
      if (p.line) out.line = p.line;
    }
    for (std::size_t i = 0; i < problems.size(); ++i) {
      if (i == primary && !already_error) continue;
      const RuleProblem& p = problems[i];
      out.more.push_back({p.skip, p.reason, p.message, p.line ? p.line : out.line});
    }
  }
  return out;
}

std::vector<ParsedDocument> parse_documents(const std::string& text, const std::string& path) {
  std::vector<ParsedDocument> out;
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    ParsedDocument d;
    d.kind = ParsedDocument::Kind::error;
    d.reason = "invalid yaml";
    d.message = e.what();
    if (e.mark.line >= 0) d.line = static_cast<std::size_t>(e.mark.line) + 1;
    out.push_back(std::move(d));
    return out;
  }
  try {
    YAML::Node global;
    YAML::Node previous;
    for (const auto& doc : docs) {
      if (!doc || doc.IsNull()) continue;
      const std::string action = doc.IsMap() ? scalar(doc["action"]) : std::string{};
      if (action == "global") {
        global = YAML::Clone(doc);
        global.remove("action");
        continue;
      }
      if (action == "reset") {
        global = YAML::Node();
        continue;
      }
      YAML::Node merged;
      if (action == "repeat" && previous) {
        merged = YAML::Clone(previous);
        YAML::Node body = YAML::Clone(doc);
        body.remove("action");
        merge_into(merged, body);
      } else if (global && global.IsMap() && doc.IsMap()) {
        merged = YAML::Clone(global);
        merge_into(merged, doc);
      } else {
        merged = doc;
      }
      previous = merged;
      out.push_back(parse_document(merged, path));
    }
  } catch (const YAML::Exception& e) {
    ParsedDocument d;
    d.kind = ParsedDocument::Kind::error;
    d.reason = "invalid yaml";
    d.message = e.what();
    out.push_back(std::move(d));
  }
  return out;
}

bool identifier_matches(const std::string& pattern, const std::string& name) {
  return glob_match(pattern, name);
}

}  // namespace sluice::rules::detail
