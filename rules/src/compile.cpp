// SPDX-License-Identifier: Apache-2.0
/// Compile side of the rule set: per-slot Hyperscan databases (literals through
/// `hs_compile_lit_multi`, everything else through `hs_compile_multi`) and the trigger tables
/// that let the scanner evaluate only rules whose atoms fired.
#include <re2/re2.h>

#include <algorithm>

#include "sigma_rule_set.hpp"

namespace sluice::rules::detail {

Program::Program() {
  for (auto& s : header_slots) s = no_index;
}
Program::~Program() = default;

namespace {

enum class Tri : std::uint8_t { f, u, t };

/// Three-valued evaluation with every positive atom of the body false and everything else
/// unknown: `f` means the rule can only match when one of its positive atoms fires.
Tri analyse(const Program& p, std::uint32_t n) {
  const Node& node = p.nodes[n];
  switch (node.kind) {
    case Node::Kind::true_: return Tri::t;
    case Node::Kind::false_: return Tri::f;
    case Node::Kind::leaf: {
      const Leaf& l = p.leaves[node.first];
      return l.kind == LeafKind::atom && l.positive && !l.context ? Tri::f : Tri::u;
    }
    case Node::Kind::not_: {
      const Tri x = analyse(p, p.children[node.first]);
      return x == Tri::f ? Tri::t : x == Tri::t ? Tri::f : Tri::u;
    }
    case Node::Kind::and_: {
      Tri r = Tri::t;
      for (std::uint32_t i = 0; i < node.count; ++i) {
        const Tri x = analyse(p, p.children[node.first + i]);
        if (x == Tri::f) return Tri::f;
        if (x == Tri::u) r = Tri::u;
      }
      return r;
    }
    case Node::Kind::or_: {
      Tri r = Tri::f;
      for (std::uint32_t i = 0; i < node.count; ++i) {
        const Tri x = analyse(p, p.children[node.first + i]);
        if (x == Tri::t) return Tri::t;
        if (x == Tri::u) r = Tri::u;
      }
      return r;
    }
  }
  return Tri::u;
}

}  // namespace

Result<void> finalize_program(Program& p) {
  std::vector<std::uint8_t> used(p.atoms.size(), 0);
  for (const auto& r : p.rules)
    for (std::uint32_t i = r.leaf_begin; i < r.leaf_end; ++i)
      if (p.leaves[i].atom != no_index) used[p.leaves[i].atom] = 1;

  // Group atoms by slot.
  std::vector<std::vector<std::uint32_t>> lit_atoms(p.slots.size()), re_atoms(p.slots.size());
  for (std::uint32_t a = 0; a < p.atoms.size(); ++a) {
    if (!used[a]) continue;
    (p.atoms[a].literal ? lit_atoms : re_atoms)[p.atoms[a].slot].push_back(a);
  }
  for (std::uint32_t s = 0; s < p.slots.size(); ++s) {
    Slot& slot = p.slots[s];
    if (!lit_atoms[s].empty()) {
      std::vector<std::string> pats;
      std::vector<unsigned> flags;
      for (auto a : lit_atoms[s]) {
        const Atom& atom = p.atoms[a];
        pats.push_back(atom.pattern);
        unsigned f = atom.caseless ? hs_flag::caseless : 0;
        // The first match of a literal is its earliest end, so one match decides `contains`
        // and `prefix`; `equals` and `suffix` need the last one.
        if (atom.mode == LiteralMode::contains || atom.mode == LiteralMode::prefix)
          f |= hs_flag::singlematch;
        flags.push_back(f);
        slot.literals.atoms.push_back(a);
        slot.literals.lengths.push_back(static_cast<std::uint32_t>(atom.pattern.size()));
      }
      HsCompileFailure failure;
      if (!hs_compile_literals(pats, flags, slot.literals.database, failure))
        return Error{"Hyperscan rejected literal '" +
                     (failure.expression >= 0 ? pats[failure.expression] : std::string{}) +
                     "' for field '" + slot.name + "': " + failure.message};
    }
    if (!re_atoms[s].empty()) {
      std::vector<std::string> pats;
      std::vector<unsigned> flags;
      for (auto a : re_atoms[s]) {
        pats.push_back(p.atoms[a].pattern);
        flags.push_back(p.atoms[a].regex_flags);
        slot.regexes.atoms.push_back(a);
      }
      HsCompileFailure failure;
      if (!hs_compile_regexes(pats, flags, slot.regexes.database, failure))
        return Error{"Hyperscan rejected regex '" +
                     (failure.expression >= 0 ? pats[failure.expression] : std::string{}) +
                     "' for field '" + slot.name + "': " + failure.message};
    }
    if (auto r = p.prototype_scratch.reserve_for(slot.literals.database); !r) return r.error();
    if (auto r = p.prototype_scratch.reserve_for(slot.regexes.database); !r) return r.error();
  }

  // Triggers.
  std::vector<std::vector<std::uint32_t>> by_atom(p.atoms.size());
  for (std::uint32_t ri = 0; ri < p.rules.size(); ++ri) {
    const CompiledRule& r = p.rules[ri];
    if (analyse(p, r.body_root) != Tri::f) {
      p.always_rules.push_back(ri);
      continue;
    }
    for (std::uint32_t i = r.leaf_begin; i < r.leaf_end; ++i) {
      const Leaf& l = p.leaves[i];
      if (l.kind == LeafKind::atom && l.positive && !l.context) {
        auto& v = by_atom[l.atom];
        if (v.empty() || v.back() != ri) v.push_back(ri);
      }
    }
  }
  p.trigger_begin.assign(p.atoms.size() + 1, 0);
  for (std::uint32_t a = 0; a < p.atoms.size(); ++a) {
    p.trigger_begin[a] = static_cast<std::uint32_t>(p.trigger_rules.size());
    p.trigger_rules.insert(p.trigger_rules.end(), by_atom[a].begin(), by_atom[a].end());
  }
  p.trigger_begin[p.atoms.size()] = static_cast<std::uint32_t>(p.trigger_rules.size());
  return {};
}

}  // namespace sluice::rules::detail
