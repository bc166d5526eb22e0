// SPDX-License-Identifier: Apache-2.0
/// The compiled form of a Sigma rule set, shared by the compile side (`lower.cpp`,
/// `compile.cpp`) and the scan side (`scan.cpp`). Everything here is built once and then only
/// read: a `Program` inside a `SigmaRuleSet` is immutable and safe to share between threads.
///
/// Shape: every event field that any rule looks at has a *slot* (by normalised name). Each slot
/// owns Hyperscan databases (eager literals, eager regexes, lazy regexes) whose pattern ids map
/// to *atoms*. Only *eager* atoms (those in a rule's trigger set, or opening a keyword group) are
/// scanned on every event; the others are matched when a rule being evaluated reads them. A rule
/// is a boolean expression (`nodes`) over *leaves*; an atom leaf is true when its atom fired on
/// the event, other leaves (exists, numeric, cidr, fieldref, RE2-only regexes) are computed on
/// demand from the slot's values. A rule is evaluated only when one of its trigger atoms fired,
/// or when it is in `always_rules` (it can match with no atom firing: pure negations, `null`,
/// `exists`, comparisons).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hs_api.hpp"
#include "sluice/detect/rule_set.hpp"

namespace re2 {
class RE2;
}

namespace sluice::rules::detail {

inline constexpr std::uint32_t no_index = 0xffffffffu;

/// Heterogeneous lookup by `std::string_view` without building a `std::string`.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using NameMap = std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>>;

/// Where a literal atom must sit in the value; Hyperscan's literal API has no anchors, so the
/// match callback checks the offsets.
enum class LiteralMode : std::uint8_t { equals, prefix, suffix, contains };

struct Atom {
  std::uint32_t slot = 0;
  bool literal = false;
  LiteralMode mode = LiteralMode::contains;
  bool caseless = true;
  bool prefilter = false;  ///< compiled with HS_FLAG_PREFILTER: a hit must be confirmed by RE2
  /// In a database scanned on every event (it triggers a rule or gates the keywords scan).
  /// Other atoms are matched only when a rule being evaluated reads them: literals directly,
  /// regexes through their slot's `lazy_regexes`.
  bool eager = false;
  unsigned regex_flags = 0;  ///< HS_FLAG_* for regex atoms
  std::string pattern;       ///< literal bytes, or a Hyperscan regex
  std::string folded;        ///< caseless literals: `pattern` in ASCII lower case
  /// Literals: the byte the on-demand `contains` match looks for first (memchr), the first one
  /// that is not a common separator (` \/-._:'"`), so it is rarer in values.
  std::uint32_t find_at = 0;
};

enum class LeafKind : std::uint8_t {
  atom,      ///< true when `atom` fired (confirmed with `re2` when the atom is a prefilter)
  re2_only,  ///< regex Hyperscan cannot compile even as a prefilter: RE2 over the slot's values
  exists,    ///< the slot has a value (any, even empty)
  empty,     ///< the slot has an empty value
  numeric,   ///< a value parses as a number and compares with `number`
  cidr,      ///< a value parses as an IP address inside `network`
  fieldref,  ///< a value equals (or starts/ends with, contains) a value of slot `ref_slot`
};

enum class Compare : std::uint8_t { gt, gte, lt, lte };

struct Network {
  std::uint8_t family = 4;  ///< 4 or 6
  std::uint8_t prefix = 0;  ///< bits
  std::uint8_t bytes[16] = {};
};

struct Leaf {
  LeafKind kind = LeafKind::atom;
  bool positive = true;  ///< not under a negation (then its match is reported in `matched`)
  bool context = false;  ///< part of the log source predicate, not of the rule's own logic
  bool cased = false;
  Compare compare = Compare::gt;
  LiteralMode ref_mode = LiteralMode::equals;
  std::uint32_t slot = 0;
  std::uint32_t atom = no_index;
  std::uint32_t re2 = no_index;  ///< index into `Program::regexes`
  std::uint32_t ref_slot = no_index;
  double number = 0;
  Network network;
};

struct Node {
  enum class Kind : std::uint8_t { and_, or_, not_, leaf, true_, false_ };
  Kind kind = Kind::true_;
  std::uint32_t first = 0;  ///< and/or/not: first child in `Program::children`; leaf: leaf index
  std::uint32_t count = 0;  ///< number of children
};

struct CompiledRule {
  RuleInfo info;
  std::uint32_t root = 0;        ///< log source predicate and body
  std::uint32_t body_root = 0;   ///< the rule's condition and its global filters
  std::uint32_t leaf_begin = 0;  ///< the rule's leaves are [leaf_begin, leaf_end)
  std::uint32_t leaf_end = 0;
};

/// One Hyperscan database over one slot, and what its pattern ids mean.
struct SlotDatabase {
  HsDatabase database;
  std::vector<std::uint32_t> atoms;    ///< pattern id -> atom
  std::vector<std::uint32_t> lengths;  ///< literal databases: pattern length, for anchoring
};

/// Eager `equals` literals of a slot, which need no Hyperscan scan: a value fires them when it
/// is one of the keys (caseless atoms under their ASCII lower-case form).
struct EqualsTable {
  using Map =
      std::unordered_map<std::string, std::vector<std::uint32_t>, StringHash, std::equal_to<>>;
  Map caseless;             ///< folded pattern -> atoms
  Map cased;                ///< pattern -> atoms
  std::size_t longest = 0;  ///< longest key: longer values cannot match
  bool empty() const { return caseless.empty() && cased.empty(); }
};

struct Slot {
  std::string name;           ///< normalised field name, or a `sluice.*` header pseudo field
  EqualsTable equals;         ///< eager `equals` literals (not in `literals`)
  SlotDatabase literals;      ///< eager literal atoms
  SlotDatabase regexes;       ///< eager regex atoms
  SlotDatabase lazy_regexes;  ///< the other regex atoms, scanned at most once per event
};

/// Header pseudo fields: event header views exposed to rules and log source predicates.
enum class HeaderField : std::uint8_t {
  keywords,
  message,
  raw,
  host,
  app,
  procid,
  msgid,
  format,
  facility,
  severity,
  count_
};
inline constexpr const char* header_field_names[] = {
    "sluice.keywords", "sluice.message", "sluice.raw",    "sluice.host",     "sluice.app",
    "sluice.procid",   "sluice.msgid",   "sluice.format", "sluice.facility", "sluice.severity"};

/// Rewrites event field names to the names rules are mapped to (mapping file `event_fields`).
struct FieldNormalizer {
  /// Stripped in order, first match wins. A prefix ending in `*.` also strips the one name
  /// segment after its fixed part (`Event.UserData.*.` turns `Event.UserData.Op.Operation` into
  /// `Operation`).
  std::vector<std::string> strip_prefixes;
  std::unordered_map<std::string, std::string, StringHash, std::equal_to<>> aliases;
  /// Drop spaces from names (Defender writes `Source Name` where rules say `SourceName`).
  bool remove_spaces = false;

  /// Does not allocate; the result views `name`, an alias string, or `buffer` (spaces removed).
  std::string_view normalize(std::string_view name, char* buffer, std::size_t capacity) const {
    // Array elements arrive as `name.0`, `name.1` (core's JSON flattening); rules name the
    // field itself and match any element.
    while (true) {
      const auto dot = name.rfind('.');
      if (dot == std::string_view::npos || dot + 1 == name.size()) break;
      bool digits = true;
      for (std::size_t i = dot + 1; i < name.size(); ++i)
        if (name[i] < '0' || name[i] > '9') digits = false;
      if (!digits) break;
      name = name.substr(0, dot);
    }
    if (!aliases.empty()) {
      if (auto it = aliases.find(name); it != aliases.end()) return it->second;
    }
    std::string_view rest = name;
    for (const auto& p : strip_prefixes) {
      const bool wild = p.size() >= 2 && p.compare(p.size() - 2, 2, "*.") == 0;
      const std::size_t fixed = wild ? p.size() - 2 : p.size();
      if (name.size() <= fixed || name.compare(0, fixed, p, 0, fixed) != 0) continue;
      std::string_view r = name.substr(fixed);
      if (wild) {
        const auto dot = r.find('.');
        if (dot == std::string_view::npos) continue;
        r = r.substr(dot + 1);
      }
      if (!aliases.empty()) {
        if (auto it = aliases.find(r); it != aliases.end()) return it->second;
      }
      rest = r;
      break;
    }
    if (remove_spaces && rest.find(' ') != std::string_view::npos && rest.size() <= capacity) {
      std::size_t n = 0;
      for (char c : rest)
        if (c != ' ') buffer[n++] = c;
      return {buffer, n};
    }
    return rest;
  }
};

struct Program {
  FieldNormalizer normalizer;
  std::vector<Slot> slots;
  NameMap slot_by_name;
  std::uint32_t header_slots[static_cast<int>(HeaderField::count_)];
  std::vector<Atom> atoms;
  std::vector<Leaf> leaves;
  std::vector<Node> nodes;
  std::vector<std::uint32_t> children;
  std::vector<CompiledRule> rules;
  std::vector<std::unique_ptr<re2::RE2>> regexes;
  /// atom -> rules it triggers, as CSR: rules of atom a are
  /// `trigger_rules[trigger_begin[a] .. trigger_begin[a+1])`.
  std::vector<std::uint32_t> trigger_begin;
  std::vector<std::uint32_t> trigger_rules;
  std::vector<std::uint32_t> always_rules;
  /// The keywords slot (the message, else the whole raw line) holds every field value, so it is
  /// long and every literal finds something in it. Its atoms are scanned per *keyword group*:
  /// the rules that read keywords atoms, grouped by a trigger set of their whole expression
  /// (log source predicate included, keywords atoms avoided where possible). A rule can only be
  /// true when an atom of its group's set fired, so a group's database (the keywords atoms that
  /// trigger its rules) is scanned only then: Windows events scan the few keywords of Windows
  /// rules, not the hundreds of Linux ones. Atoms that open groups fire in the field scan; those
  /// on the keywords slot itself (predicates such as the Cisco mnemonic or the access log shape)
  /// are in `keyword_gate_*`, scanned over the keywords first.
  struct KeywordGroup {
    /// The group's literal atoms; when it has regexes too, one mixed database of both (regexes
    /// have length 0 in `lengths`), so the text is scanned once.
    SlotDatabase literals;
    SlotDatabase regexes;  ///< the regex atoms of a group without literals
  };
  std::vector<KeywordGroup> keyword_groups;
  std::vector<std::uint32_t> keyword_groups_always;  ///< groups whose rules have no trigger set
  /// atom -> keyword groups it opens, as CSR (like `trigger_begin` / `trigger_rules`).
  std::vector<std::uint32_t> opens_begin;
  std::vector<std::uint32_t> opens_groups;
  /// keywords atom -> the groups whose database holds it, as CSR.
  std::vector<std::uint32_t> in_groups_begin;
  std::vector<std::uint32_t> in_groups;
  std::vector<std::uint8_t> keyword_gate;  ///< per atom: in `keyword_gate_*`
  SlotDatabase keyword_gate_literals;
  SlotDatabase keyword_gate_regexes;
  HsScratch prototype_scratch;

  Program();  // out of line: members hold RE2, which only compile.cpp and scan.cpp see whole
  ~Program();
};

}  // namespace sluice::rules::detail
