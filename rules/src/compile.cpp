// SPDX-License-Identifier: Apache-2.0
/// Compile side of the rule set: per-slot Hyperscan databases (literals through
/// `hs_compile_lit_multi`, everything else through `hs_compile_multi`) and the trigger tables
/// that let the scanner evaluate only rules whose atoms fired.
#include <re2/re2.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sigma_rule_set.hpp"

namespace sluice::rules::detail {

Program::Program() {
  for (auto& s : header_slots)
    s = no_index;
}
Program::~Program() = default;

namespace {

/// A set of atoms at least one of which fires whenever a (sub)expression is true, and an estimate
/// of how often that happens; `valid == false` when the expression can be true with no atom
/// firing (a negation, `exists`, a comparison, ...).
struct TriggerSet {
  bool valid = false;
  double cost = 0;
  std::vector<std::uint32_t> atoms;
};

/// Cheap estimate of how often an atom fires on real events: short patterns and patterns many
/// rules share (`\cmd.exe`, `powershell`) are common; long, specific ones are rare.
double atom_cost(const Program& p, std::uint32_t atom, const std::vector<std::uint32_t>& users) {
  const Atom& a = p.atoms[atom];
  double len = static_cast<double>(a.pattern.size());
  if (!a.literal) len = len / 2;  // regex text is longer than what it needs to match
  if (a.literal && a.mode == LiteralMode::equals) len += 4;  // whole-value matches are selective
  return (1.0 + users[atom]) / (1.0 + len);
}

/// The cheapest trigger set of node `n`: an AND needs only one of its children to have fired (it
/// can only be true when all are), an OR needs all of them.
TriggerSet triggers(const Program& p, std::uint32_t n, const std::vector<std::uint32_t>& users) {
  const Node& node = p.nodes[n];
  switch (node.kind) {
    case Node::Kind::false_:
      return TriggerSet{true, 0, {}};
    case Node::Kind::true_:
    case Node::Kind::not_:
      return {};
    case Node::Kind::leaf: {
      const Leaf& l = p.leaves[node.first];
      if (l.kind != LeafKind::atom || !l.positive || l.context) return {};
      return TriggerSet{true, atom_cost(p, l.atom, users), {l.atom}};
    }
    case Node::Kind::and_: {
      TriggerSet best;
      for (std::uint32_t i = 0; i < node.count; ++i) {
        TriggerSet t = triggers(p, p.children[node.first + i], users);
        if (t.valid && (!best.valid || t.cost < best.cost)) best = std::move(t);
      }
      return best;
    }
    case Node::Kind::or_: {
      TriggerSet all{true, 0, {}};
      for (std::uint32_t i = 0; i < node.count; ++i) {
        TriggerSet t = triggers(p, p.children[node.first + i], users);
        if (!t.valid) return {};
        all.cost += t.cost;
        all.atoms.insert(all.atoms.end(), t.atoms.begin(), t.atoms.end());
      }
      return all;
    }
  }
  return {};
}

/// Serialized databases for instant restart: with `SLUICE_RULES_CACHE` set to a folder, each
/// slot database is stored there under a hash of everything that defines it (Hyperscan version,
/// kind, patterns, flags) and loaded instead of compiled next time. A cache file that does not
/// load (other CPU, other Hyperscan, damaged) is ignored and rewritten.
class DatabaseCache {
 public:
  DatabaseCache() {
    if (const char* dir = std::getenv("SLUICE_RULES_CACHE"); dir && *dir) dir_ = dir;
  }
  bool enabled() const { return !dir_.empty(); }

  static std::string key(char kind, const std::vector<std::string>& patterns,
                         const std::vector<unsigned>& flags) {
    std::uint64_t h = 1469598103934665603ull;  // FNV-1a 64
    auto mix = [&](const void* data, std::size_t n) {
      const auto* b = static_cast<const unsigned char*>(data);
      for (std::size_t i = 0; i < n; ++i)
        h = (h ^ b[i]) * 1099511628211ull;
    };
    const std::string version = hs_version_string();
    mix(version.data(), version.size());
    mix(&kind, 1);
    for (std::size_t i = 0; i < patterns.size(); ++i) {
      const std::uint64_t n = patterns[i].size();
      mix(&n, sizeof n);
      mix(patterns[i].data(), patterns[i].size());
      mix(&flags[i], sizeof flags[i]);
    }
    char name[32];
    std::snprintf(name, sizeof name, "%016llx.hsdb", static_cast<unsigned long long>(h));
    return name;
  }

  bool load(const std::string& key, HsDatabase& db) const {
    std::ifstream in(dir_ + "/" + key, std::ios::binary);
    if (!in) return false;
    std::stringstream ss;
    ss << in.rdbuf();
    return hs_deserialize(ss.str(), db);
  }

  void store(const std::string& key, const HsDatabase& db) const {
    std::string bytes;
    if (!hs_serialize(db, bytes)) return;
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    // Write then rename, so a concurrent reader never sees half a database.
    const std::string tmp = dir_ + "/" + key + ".tmp" + std::to_string(::getpid());
    {
      std::ofstream out(tmp, std::ios::binary);
      if (!out) return;
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      if (!out) return;
    }
    std::filesystem::rename(tmp, dir_ + "/" + key, ec);
    if (ec) std::filesystem::remove(tmp, ec);
  }

 private:
  std::string dir_;
};

/// "; used by RULE (FILE), ..." for the atom behind Hyperscan's failing expression index.
std::string rules_using(const Program& p, const std::vector<std::uint32_t>& atoms, int expression) {
  if (expression < 0 || static_cast<std::size_t>(expression) >= atoms.size()) return {};
  const std::uint32_t atom = atoms[static_cast<std::size_t>(expression)];
  std::string out;
  for (const auto& r : p.rules) {
    for (std::uint32_t i = r.leaf_begin; i < r.leaf_end; ++i) {
      if (p.leaves[i].atom == atom) {
        out += (out.empty() ? "; used by " : ", ") + r.info.id + " (" + r.info.path + ")";
        break;
      }
    }
  }
  return out;
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
  const DatabaseCache cache;
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
      const std::string key =
          cache.enabled() ? DatabaseCache::key('L', pats, flags) : std::string{};
      if (cache.enabled() && cache.load(key, slot.literals.database)) {
        // loaded from the cache
      } else if (!hs_compile_literals(pats, flags, slot.literals.database, failure)) {
        return Error{"Hyperscan rejected literal '" +
                     (failure.expression >= 0 ? pats[failure.expression] : std::string{}) +
                     "' for field '" + slot.name + "': " + failure.message +
                     rules_using(p, lit_atoms[s], failure.expression)};
      } else if (cache.enabled()) {
        cache.store(key, slot.literals.database);
      }
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
      const std::string key =
          cache.enabled() ? DatabaseCache::key('R', pats, flags) : std::string{};
      if (cache.enabled() && cache.load(key, slot.regexes.database)) {
        // loaded from the cache
      } else if (!hs_compile_regexes(pats, flags, slot.regexes.database, failure)) {
        return Error{"Hyperscan rejected regex '" +
                     (failure.expression >= 0 ? pats[failure.expression] : std::string{}) +
                     "' for field '" + slot.name + "': " + failure.message +
                     rules_using(p, re_atoms[s], failure.expression)};
      } else if (cache.enabled()) {
        cache.store(key, slot.regexes.database);
      }
    }
    if (auto r = p.prototype_scratch.reserve_for(slot.literals.database); !r) return r.error();
    if (auto r = p.prototype_scratch.reserve_for(slot.regexes.database); !r) return r.error();
  }

  // Triggers: each rule is evaluated only when an atom of its cheapest trigger set fired; a rule
  // without one (it can match with no atom firing) is evaluated on every event.
  std::vector<std::uint32_t> users(p.atoms.size(), 0);
  for (const auto& r : p.rules)
    for (std::uint32_t i = r.leaf_begin; i < r.leaf_end; ++i)
      if (p.leaves[i].kind == LeafKind::atom && !p.leaves[i].context) ++users[p.leaves[i].atom];
  std::vector<std::vector<std::uint32_t>> by_atom(p.atoms.size());
  for (std::uint32_t ri = 0; ri < p.rules.size(); ++ri) {
    TriggerSet t = triggers(p, p.rules[ri].body_root, users);
    if (!t.valid) {
      p.always_rules.push_back(ri);
      continue;
    }
    std::sort(t.atoms.begin(), t.atoms.end());
    t.atoms.erase(std::unique(t.atoms.begin(), t.atoms.end()), t.atoms.end());
    for (auto a : t.atoms)
      by_atom[a].push_back(ri);
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
