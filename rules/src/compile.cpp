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
#include <map>
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
/// With `gate_slot` set, log source predicate leaves count too and atoms on `gate_slot` are
/// avoided (their cost is huge) wherever another choice exists.
TriggerSet triggers(const Program& p, std::uint32_t n, const std::vector<std::uint32_t>& users,
                    std::uint32_t gate_slot = no_index) {
  const Node& node = p.nodes[n];
  switch (node.kind) {
    case Node::Kind::false_:
      return TriggerSet{true, 0, {}};
    case Node::Kind::true_:
    case Node::Kind::not_:
      return {};
    case Node::Kind::leaf: {
      const Leaf& l = p.leaves[node.first];
      if (l.kind != LeafKind::atom || !l.positive) return {};
      if (l.context && gate_slot == no_index) return {};
      double cost = atom_cost(p, l.atom, users);
      if (gate_slot != no_index && p.atoms[l.atom].slot == gate_slot) cost += 1e6;
      return TriggerSet{true, cost, {l.atom}};
    }
    case Node::Kind::and_: {
      TriggerSet best;
      for (std::uint32_t i = 0; i < node.count; ++i) {
        TriggerSet t = triggers(p, p.children[node.first + i], users, gate_slot);
        if (t.valid && (!best.valid || t.cost < best.cost)) best = std::move(t);
      }
      return best;
    }
    case Node::Kind::or_: {
      TriggerSet all{true, 0, {}};
      for (std::uint32_t i = 0; i < node.count; ++i) {
        TriggerSet t = triggers(p, p.children[node.first + i], users, gate_slot);
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

namespace {

/// Compiles the literal (`literal == true`) or regex atoms `atoms` into `out`, through the cache
/// when it is enabled. `what` names the database in errors.
Result<void> build_database(const Program& p, const std::vector<std::uint32_t>& atoms, bool literal,
                            const std::string& what, const DatabaseCache& cache,
                            SlotDatabase& out) {
  if (atoms.empty()) return {};
  std::vector<std::string> pats;
  std::vector<unsigned> flags;
  for (auto a : atoms) {
    const Atom& atom = p.atoms[a];
    pats.push_back(atom.pattern);
    out.atoms.push_back(a);
    if (literal) {
      unsigned f = atom.caseless ? hs_flag::caseless : 0;
      // The first match of a literal is its earliest end, so one match decides `contains`
      // and `prefix`; `equals` and `suffix` need the last one.
      if (atom.mode == LiteralMode::contains || atom.mode == LiteralMode::prefix)
        f |= hs_flag::singlematch;
      flags.push_back(f);
      out.lengths.push_back(static_cast<std::uint32_t>(atom.pattern.size()));
    } else {
      flags.push_back(atom.regex_flags);
    }
  }
  HsCompileFailure failure;
  const char kind = literal ? 'L' : 'R';
  const std::string key = cache.enabled() ? DatabaseCache::key(kind, pats, flags) : std::string{};
  if (cache.enabled() && cache.load(key, out.database)) return {};
  const bool ok = literal ? hs_compile_literals(pats, flags, out.database, failure)
                          : hs_compile_regexes(pats, flags, out.database, failure);
  if (!ok) {
    return Error{std::string("Hyperscan rejected ") + (literal ? "literal '" : "regex '") +
                 (failure.expression >= 0 ? pats[failure.expression] : std::string{}) + "' for " +
                 what + ": " + failure.message + rules_using(p, atoms, failure.expression)};
  }
  if (cache.enabled()) cache.store(key, out.database);
  return {};
}

/// One database for the literal atoms `literals` and the regex atoms `regexes` of a keyword
/// group, so the long keywords text is scanned once instead of twice. Literals become regexes
/// that escape every byte (same matches and end offsets; `HS_FLAG_CASELESS` folds ASCII as the
/// literal API does) and keep their length in `lengths` for the callback's anchoring checks;
/// regexes have length 0 there.
Result<void> build_mixed_database(const Program& p, const std::vector<std::uint32_t>& literals,
                                  const std::vector<std::uint32_t>& regexes,
                                  const std::string& what, const DatabaseCache& cache,
                                  SlotDatabase& out) {
  std::vector<std::string> pats;
  std::vector<unsigned> flags;
  for (auto a : literals) {
    const Atom& atom = p.atoms[a];
    std::string escaped;
    for (const char c : atom.pattern) {
      const auto u = static_cast<unsigned char>(c);
      if ((u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z')) {
        escaped += c;
      } else {
        char hex[5];
        std::snprintf(hex, sizeof hex, "\\x%02x", u);
        escaped += hex;
      }
    }
    pats.push_back(std::move(escaped));
    unsigned f = atom.caseless ? hs_flag::caseless : 0;
    if (atom.mode == LiteralMode::contains || atom.mode == LiteralMode::prefix)
      f |= hs_flag::singlematch;
    flags.push_back(f);
    out.atoms.push_back(a);
    out.lengths.push_back(static_cast<std::uint32_t>(atom.pattern.size()));
  }
  for (auto a : regexes) {
    pats.push_back(p.atoms[a].pattern);
    flags.push_back(p.atoms[a].regex_flags);
    out.atoms.push_back(a);
    out.lengths.push_back(0);
  }
  const std::string key = cache.enabled() ? DatabaseCache::key('M', pats, flags) : std::string{};
  if (cache.enabled() && cache.load(key, out.database)) return {};
  HsCompileFailure failure;
  if (!hs_compile_regexes(pats, flags, out.database, failure)) {
    const bool lit =
        failure.expression >= 0 && static_cast<std::size_t>(failure.expression) < literals.size();
    return Error{std::string("Hyperscan rejected ") + (lit ? "literal" : "regex") + " for " + what +
                 ": " + failure.message + rules_using(p, out.atoms, failure.expression)};
  }
  if (cache.enabled()) cache.store(key, out.database);
  return {};
}

}  // namespace

Result<void> finalize_program(Program& p) {
  std::vector<std::uint8_t> used(p.atoms.size(), 0);
  for (const auto& r : p.rules)
    for (std::uint32_t i = r.leaf_begin; i < r.leaf_end; ++i)
      if (p.leaves[i].atom != no_index) used[p.leaves[i].atom] = 1;

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
    if (!by_atom[a].empty()) p.atoms[a].eager = true;
  }
  p.trigger_begin[p.atoms.size()] = static_cast<std::uint32_t>(p.trigger_rules.size());

  // Keyword groups (program.hpp): rules that read keywords atoms, keyed by the trigger set of
  // their whole expression with keywords atoms avoided.
  const std::uint32_t kw = p.header_slots[static_cast<int>(HeaderField::keywords)];
  std::vector<std::uint32_t> gate_literals, gate_regexes;
  std::vector<std::vector<std::uint32_t>> group_literals, group_regexes, opens(p.atoms.size());
  if (kw != no_index) {
    std::map<std::vector<std::uint32_t>, std::uint32_t> group_of;
    std::vector<std::uint8_t> gate(p.atoms.size(), 0);
    for (std::uint32_t ri = 0; ri < p.rules.size(); ++ri) {
      const CompiledRule& r = p.rules[ri];
      bool reads = false;
      for (std::uint32_t i = r.leaf_begin; i < r.leaf_end && !reads; ++i)
        reads = p.leaves[i].kind == LeafKind::atom && p.atoms[p.leaves[i].atom].slot == kw;
      if (!reads) continue;
      TriggerSet t = triggers(p, r.root, users, kw);
      std::sort(t.atoms.begin(), t.atoms.end());
      t.atoms.erase(std::unique(t.atoms.begin(), t.atoms.end()), t.atoms.end());
      if (!t.valid) t.atoms.clear();  // the empty key: a group open on every event
      auto [it, inserted] =
          group_of.emplace(t.atoms, static_cast<std::uint32_t>(group_literals.size()));
      const std::uint32_t g = it->second;
      if (inserted) {
        group_literals.emplace_back();
        group_regexes.emplace_back();
        if (t.atoms.empty()) p.keyword_groups_always.push_back(g);
        for (auto a : t.atoms) {
          opens[a].push_back(g);
          p.atoms[a].eager = true;
          if (p.atoms[a].slot == kw && !gate[a]) {
            gate[a] = 1;
            (p.atoms[a].literal ? gate_literals : gate_regexes).push_back(a);
          }
        }
      }
      // The keywords atoms that make this rule a candidate.
      for (std::uint32_t i = r.leaf_begin; i < r.leaf_end; ++i) {
        const std::uint32_t a = p.leaves[i].atom;
        if (p.leaves[i].kind != LeafKind::atom || p.atoms[a].slot != kw) continue;
        bool triggers_rule = false;
        for (std::uint32_t k = p.trigger_begin[a]; k < p.trigger_begin[a + 1] && !triggers_rule;
             ++k)
          triggers_rule = p.trigger_rules[k] == ri;
        if (triggers_rule) (p.atoms[a].literal ? group_literals : group_regexes)[g].push_back(a);
      }
    }
    // Groups that share an opening atom open together (an sshd line opens the sshd, auth and
    // syslog groups): one merged group scans the text once instead of three times.
    std::vector<std::uint32_t> parent(group_literals.size());
    for (std::uint32_t g = 0; g < parent.size(); ++g)
      parent[g] = g;
    auto root = [&](std::uint32_t g) {
      while (parent[g] != g)
        g = parent[g] = parent[parent[g]];
      return g;
    };
    for (const auto& gs : opens)
      for (std::size_t i = 1; i < gs.size(); ++i)
        parent[root(gs[i])] = root(gs[0]);
    std::vector<std::uint32_t> merged(parent.size(), no_index);
    std::vector<std::vector<std::uint32_t>> merged_literals, merged_regexes;
    for (std::uint32_t g = 0; g < parent.size(); ++g) {
      const std::uint32_t r = root(g);
      if (merged[r] == no_index) {
        merged[r] = static_cast<std::uint32_t>(merged_literals.size());
        merged_literals.emplace_back();
        merged_regexes.emplace_back();
      }
      merged[g] = merged[r];
      auto& ml = merged_literals[merged[g]];
      ml.insert(ml.end(), group_literals[g].begin(), group_literals[g].end());
      auto& mr = merged_regexes[merged[g]];
      mr.insert(mr.end(), group_regexes[g].begin(), group_regexes[g].end());
    }
    for (auto& gs : opens) {
      for (auto& g : gs)
        g = merged[g];
      std::sort(gs.begin(), gs.end());
      gs.erase(std::unique(gs.begin(), gs.end()), gs.end());
    }
    for (auto& g : p.keyword_groups_always)
      g = merged[g];
    group_literals = std::move(merged_literals);
    group_regexes = std::move(merged_regexes);
  }
  p.opens_begin.assign(p.atoms.size() + 1, 0);
  for (std::uint32_t a = 0; a < p.atoms.size(); ++a) {
    p.opens_begin[a] = static_cast<std::uint32_t>(p.opens_groups.size());
    p.opens_groups.insert(p.opens_groups.end(), opens[a].begin(), opens[a].end());
  }
  p.opens_begin[p.atoms.size()] = static_cast<std::uint32_t>(p.opens_groups.size());

  // Eager atoms (triggers and gates) go into the databases scanned on every event; the others
  // are matched only when a rule being evaluated asks for them (literals directly, regexes
  // through their slot's lazy database).
  std::vector<std::vector<std::uint32_t>> lit_atoms(p.slots.size()), re_atoms(p.slots.size()),
      lazy_re_atoms(p.slots.size());
  for (std::uint32_t a = 0; a < p.atoms.size(); ++a) {
    if (!used[a]) continue;
    const Atom& atom = p.atoms[a];
    if (atom.slot == kw) {
      // Scanned through the keyword groups; every regex also in the lazy database.
      if (!atom.literal) lazy_re_atoms[atom.slot].push_back(a);
    } else if (atom.literal) {
      if (!atom.eager) continue;
      if (atom.mode == LiteralMode::equals) {
        EqualsTable& t = p.slots[atom.slot].equals;
        std::string key = atom.pattern;
        if (atom.caseless)
          for (char& c : key)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
        t.longest = std::max(t.longest, key.size());
        (atom.caseless ? t.caseless : t.cased)[std::move(key)].push_back(a);
      } else {
        lit_atoms[atom.slot].push_back(a);
      }
    } else {
      (atom.eager ? re_atoms : lazy_re_atoms)[atom.slot].push_back(a);
    }
  }
  for (Atom& a : p.atoms) {
    if (!a.literal) continue;
    while (a.find_at + 1 < a.pattern.size() &&
           std::string_view(" \\/-._:'\"").find(a.pattern[a.find_at]) != std::string_view::npos)
      ++a.find_at;
    if (!a.caseless) continue;
    a.folded = a.pattern;
    for (char& c : a.folded)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  const DatabaseCache cache;
  for (std::uint32_t s = 0; s < p.slots.size(); ++s) {
    Slot& slot = p.slots[s];
    const std::string what = "field '" + slot.name + "'";
    if (auto r = build_database(p, lit_atoms[s], true, what, cache, slot.literals); !r)
      return r.error();
    if (auto r = build_database(p, re_atoms[s], false, what, cache, slot.regexes); !r)
      return r.error();
    if (auto r = build_database(p, lazy_re_atoms[s], false, what, cache, slot.lazy_regexes); !r)
      return r.error();
    for (const SlotDatabase* db : {&slot.literals, &slot.regexes, &slot.lazy_regexes})
      if (auto r = p.prototype_scratch.reserve_for(db->database); !r) return r.error();
  }
  auto add = [&](const std::vector<std::uint32_t>& atoms, bool literal, const std::string& what,
                 SlotDatabase& db) -> Result<void> {
    std::vector<std::uint32_t> unique = atoms;
    std::sort(unique.begin(), unique.end());
    unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
    if (auto r = build_database(p, unique, literal, what, cache, db); !r) return r.error();
    return p.prototype_scratch.reserve_for(db.database);
  };
  if (auto r = add(gate_literals, true, "keyword gates", p.keyword_gate_literals); !r)
    return r.error();
  if (auto r = add(gate_regexes, false, "keyword gates", p.keyword_gate_regexes); !r)
    return r.error();
  p.keyword_gate.assign(p.atoms.size(), 0);
  for (const auto* gates : {&gate_literals, &gate_regexes})
    for (auto a : *gates)
      p.keyword_gate[a] = 1;
  std::vector<std::vector<std::uint32_t>> in_groups(p.atoms.size());
  // Every group that has a database also scans the gates (scan.cpp): one pass over the text.
  for (std::size_t g = 0; g < group_literals.size(); ++g) {
    if (group_literals[g].empty() && group_regexes[g].empty()) continue;
    group_literals[g].insert(group_literals[g].end(), gate_literals.begin(), gate_literals.end());
    group_regexes[g].insert(group_regexes[g].end(), gate_regexes.begin(), gate_regexes.end());
  }
  p.keyword_groups.resize(group_literals.size());
  auto unique = [](std::vector<std::uint32_t> atoms) {
    std::sort(atoms.begin(), atoms.end());
    atoms.erase(std::unique(atoms.begin(), atoms.end()), atoms.end());
    return atoms;
  };
  for (std::size_t g = 0; g < group_literals.size(); ++g) {
    Program::KeywordGroup& group = p.keyword_groups[g];
    if (!group_literals[g].empty() && !group_regexes[g].empty()) {
      // Both kinds: one mixed database in `literals` (measured: one pass over a 1.9 kB Sysmon
      // event costs less than the literal and the regex pass together; bench/RESULTS.md).
      if (auto r = build_mixed_database(p, unique(group_literals[g]), unique(group_regexes[g]),
                                        "keywords", cache, group.literals);
          !r)
        return r.error();
      if (auto r = p.prototype_scratch.reserve_for(group.literals.database); !r) return r.error();
    } else {
      if (auto r = add(group_literals[g], true, "keywords", group.literals); !r) return r.error();
      if (auto r = add(group_regexes[g], false, "keywords", group.regexes); !r) return r.error();
    }
    for (const SlotDatabase* db : {&p.keyword_groups[g].literals, &p.keyword_groups[g].regexes})
      for (auto a : db->atoms)
        in_groups[a].push_back(static_cast<std::uint32_t>(g));
  }
  p.in_groups_begin.assign(p.atoms.size() + 1, 0);
  for (std::uint32_t a = 0; a < p.atoms.size(); ++a) {
    p.in_groups_begin[a] = static_cast<std::uint32_t>(p.in_groups.size());
    p.in_groups.insert(p.in_groups.end(), in_groups[a].begin(), in_groups[a].end());
  }
  p.in_groups_begin[p.atoms.size()] = static_cast<std::uint32_t>(p.in_groups.size());
  return {};
}

}  // namespace sluice::rules::detail
