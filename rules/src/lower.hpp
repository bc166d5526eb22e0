// SPDX-License-Identifier: Apache-2.0
/// Lowering: a validated `SigmaRule` plus the mapping becomes leaves, atoms and expression nodes
/// in a `Program` (compile-side). Value modifiers are applied here, in the order written (spec:
/// "Value Modifiers"), producing wildcard strings that become Hyperscan literals or regexes.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "mapping.hpp"
#include "program.hpp"
#include "sigma_document.hpp"
#include "sluice/rules/sigma.hpp"

namespace sluice::rules::detail {

class Lowerer {
 public:
  Lowerer(Program& program, const Mapping& mapping) : p_(program), mapping_(mapping) {}

  /// Appends `rule` (with the global filters that name it) to the program. On failure nothing of
  /// the rule stays reachable and `reason`/`message` say why.
  bool add_rule(const SigmaRule& rule, const std::vector<const SigmaFilter*>& filters,
                std::string& reason, std::string& message);

  /// Which engine runs `|re` regexes Hyperscan accepts (sigma.hpp, `SigmaOptions`).
  void set_regex_engine(RegexEngine engine) { engine_ = engine; }

  /// Regexes that run through RE2 (prefiltered or directly).
  std::size_t regex_fallbacks() const { return regex_fallbacks_; }

  /// Distinct `|re` regexes (per pattern and flags) by the engine that runs them: 0 Hyperscan
  /// alone, 1 Hyperscan prefilter confirmed by RE2, 2 RE2 alone.
  std::size_t regex_engine_count(int engine) const { return regex_engines_[engine]; }

  /// The slot for a normalised field name, created on first use.
  std::uint32_t slot(const std::string& name);

 private:
  struct Context;
  std::uint32_t lower_condition(const ConditionNode& node, const std::vector<SearchIdentifier>& ids,
                                Context& cx, bool neg);
  std::uint32_t lower_identifier(const SearchIdentifier& id, Context& cx, bool neg);
  std::uint32_t lower_item(const DetectionItem& item, Context& cx, bool neg);
  std::uint32_t make_leaf(Leaf leaf, Context& cx, bool neg);
  std::uint32_t make_op(Node::Kind kind, const std::vector<std::uint32_t>& kids);
  std::uint32_t atom(Atom a);
  std::uint32_t regex_leaf(const std::string& pattern, unsigned hs_flags, bool caseless,
                           bool multiline, bool dotall, std::uint32_t slot, Context& cx, bool neg,
                           bool generated = false);

  Program& p_;
  const Mapping& mapping_;
  std::map<std::string, std::uint32_t> atom_by_key_;
  std::map<std::string, int> regex_verdicts_;  ///< 0 hs, 1 prefilter, 2 re2 only, 3 rejected
  std::map<std::string, std::uint32_t> re2_by_key_;
  std::size_t regex_fallbacks_ = 0;
  std::size_t regex_engines_[3] = {};
  RegexEngine engine_ = RegexEngine::automatic;
};

}  // namespace sluice::rules::detail
