// SPDX-License-Identifier: Apache-2.0
/// Scan side: one `SigmaScanner` per worker. For each event it collects the values of the slots
/// rules look at, scans each value once with its slot's database of eager atoms (those that
/// trigger a rule), scans the long keywords text only with the keyword groups that can be true
/// (program.hpp), marks the rules whose atoms fired, and evaluates only those plus the small
/// always-evaluated set. Atoms that trigger nothing are matched only when a rule being evaluated
/// reads them, once per event.
///
/// Does not allocate per event: every buffer is sized at construction or grows to the largest
/// event seen and is then reused. Only a detection allocates (its `matched` list). Never throws;
/// a Hyperscan scan error is counted in `scan_errors_` and the value is treated as not matching.
#include <arpa/inet.h>
#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "sigma_rule_set.hpp"
#include "sluice/rules/sigma.hpp"

namespace sluice::rules::detail {
namespace {

constexpr const char* small_numbers[] = {"0",  "1",  "2",  "3",  "4",  "5",  "6",  "7",
                                         "8",  "9",  "10", "11", "12", "13", "14", "15",
                                         "16", "17", "18", "19", "20", "21", "22", "23"};

char fold(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

/// Writes `n` bytes of `in` to `out` in ASCII lower case. Branch-free, so the compiler
/// vectorises it: values folded on demand are long (command lines, the raw JSON).
void fold_into(const char* __restrict in, std::size_t n, char* __restrict out) {
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(in[i]);
    out[i] = static_cast<char>(c + (static_cast<unsigned char>(c - 'A') < 26 ? 32 : 0));
  }
}

bool equal_fold(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (fold(a[i]) != fold(b[i])) return false;
  return true;
}

bool find_fold(std::string_view hay, std::string_view needle) {
  if (needle.empty()) return true;
  if (needle.size() > hay.size()) return false;
  const char first = fold(needle[0]);
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i)
    if (fold(hay[i]) == first && equal_fold(hay.substr(i, needle.size()), needle)) return true;
  return false;
}

bool parse_ip(std::string_view text, std::uint8_t family, std::uint8_t* out) {
  char buf[64];
  if (text.size() >= sizeof buf) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = 0;
  return inet_pton(family == 4 ? AF_INET : AF_INET6, buf, out) == 1;
}

/// Event field name -> slot (or `no_index`), so each distinct name is normalised and looked up
/// once per scanner instead of once per event. Open addressing over a fixed table; names are
/// copied into one buffer. Once half full it stops remembering (lookups still answer).
class SlotCache {
 public:
  SlotCache() : table_(capacity) { names_.reserve(capacity * 16); }

  /// Returns the remembered slot, or calls `resolve(name)` and remembers its answer.
  template <class F>
  std::uint32_t find(std::string_view name, F&& resolve) {
    const std::uint64_t h = hash(name);
    for (std::size_t i = h & (capacity - 1);; i = (i + 1) & (capacity - 1)) {
      Entry& e = table_[i];
      if (e.hash == 0) {
        const std::uint32_t slot = resolve(name);
        if (used_ < capacity / 2) {
          e = Entry{h, static_cast<std::uint32_t>(names_.size()),
                    static_cast<std::uint32_t>(name.size()), slot};
          names_.append(name);
          ++used_;
        }
        return slot;
      }
      if (e.hash == h && e.length == name.size() &&
          std::memcmp(names_.data() + e.offset, name.data(), name.size()) == 0)
        return e.slot;
    }
  }

 private:
  static constexpr std::size_t capacity = 4096;
  struct Entry {
    std::uint64_t hash = 0;  ///< 0: empty
    std::uint32_t offset = 0;
    std::uint32_t length = 0;
    std::uint32_t slot = no_index;
  };

  static std::uint64_t hash(std::string_view s) {
    std::uint64_t h = 0x9e3779b97f4a7c15ull ^ s.size();
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      std::uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      h = (h ^ w) * 0xff51afd7ed558ccdull;
      h ^= h >> 32;
    }
    std::uint64_t w = 0;
    std::memcpy(&w, s.data() + i, s.size() - i);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return h | 1;  // never 0
  }

  std::vector<Entry> table_;
  std::string names_;
  std::size_t used_ = 0;
};

class SigmaScanner final : public RuleScanner {
 public:
  SigmaScanner(std::shared_ptr<const SigmaRuleSet> set, HsScratch scratch, bool reference = false)
      : set_(std::move(set)),
        p_(set_->program()),
        scratch_(std::move(scratch)),
        reference_(reference) {
    if (reference_) {
      for (const Atom& a : p_.atoms) {
        if (a.literal) {
          reference_regexes_.emplace_back();
          continue;
        }
        RE2::Options opt;
        opt.set_log_errors(false);
        opt.set_encoding(RE2::Options::EncodingLatin1);
        opt.set_case_sensitive(!a.caseless);
        opt.set_dot_nl((a.regex_flags & hs_flag::dotall) != 0);
        const bool ml = (a.regex_flags & hs_flag::multiline) != 0;
        reference_regexes_.push_back(
            std::make_unique<RE2>(ml ? "(?m)" + a.pattern : a.pattern, opt));
      }
    }
    keywords_slot_ = p_.header_slots[static_cast<int>(HeaderField::keywords)];
    slot_first_.assign(p_.slots.size(), no_index);
    slot_flags_.assign(p_.slots.size(), 0);
    atom_done_.assign(p_.atoms.size(), 0);
    group_open_.assign(p_.keyword_groups.size(), 0);
    open_groups_.reserve(p_.keyword_groups.size());
    atom_hit_.assign(p_.atoms.size(), no_index);
    rule_mark_.assign(p_.rules.size(), 0);
    values_.reserve(256);
    touched_.reserve(p_.slots.size());
    fired_.reserve(256);
    keyword_values_.reserve(4);
    folded_.reserve(8192);
    std::size_t longest = 0;
    for (const Slot& slot : p_.slots)
      longest = std::max(longest, slot.equals.longest);
    equals_key_.reserve(longest);
    candidates_.reserve(p_.rules.size());
  }

  void scan(const EventBatch& batch, std::vector<Detection>& out) override {
    const auto& events = batch.events();
    for (std::size_t i = 0; i < events.size(); ++i)
      scan_event(events[i], static_cast<std::uint32_t>(i), out);
  }

 private:
  struct Value {
    std::uint32_t slot;
    std::uint32_t next;
    std::string_view name;
    std::string_view text;
    std::uint32_t folded = no_index;  ///< offset of `text` in ASCII lower case in `folded_`
  };

  /// `values_[v].text` in ASCII lower case, made on first use.
  std::string_view folded_text(std::uint32_t v) {
    Value& value = values_[v];
    if (value.folded == no_index) {
      value.folded = static_cast<std::uint32_t>(folded_.size());
      folded_.resize(folded_.size() + value.text.size());
      fold_into(value.text.data(), value.text.size(), folded_.data() + value.folded);
    }
    return std::string_view(folded_).substr(value.folded, value.text.size());
  }

  /// What Hyperscan plus the match callback's offset checks decide for literal atom `a` on value
  /// `v`: ASCII case folding when caseless (Hyperscan's caseless), anchored per `mode`.
  bool literal_matches(const Atom& a, std::uint32_t v) {
    const std::string_view t = a.caseless ? folded_text(v) : values_[v].text;
    const std::string_view lit = a.caseless ? std::string_view(a.folded) : a.pattern;
    if (lit.size() > t.size()) return false;
    switch (a.mode) {
      case LiteralMode::equals:
        return t == lit;
      case LiteralMode::prefix:
        return t.substr(0, lit.size()) == lit;
      case LiteralMode::suffix:
        return t.substr(t.size() - lit.size()) == lit;
      case LiteralMode::contains:
        return contains(t, lit, a.find_at);
    }
    return false;
  }

  /// Whether `needle` occurs in `hay`: memchr for the needle's byte `k` (`Atom::find_at`, the
  /// first that is not a common separator; values are short, this beats memmem's set-up there),
  /// then memcmp.
  static bool contains(std::string_view hay, std::string_view needle, std::size_t k) {
    if (needle.empty()) return true;
    if (needle.size() > hay.size()) return false;
    const char* p = hay.data() + k;
    const char* const last = hay.data() + (hay.size() - needle.size()) + k;  // last spot for k
    while (p <= last) {
      p = static_cast<const char*>(
          std::memchr(p, needle[k], static_cast<std::size_t>(last - p) + 1));
      if (p == nullptr) return false;
      if (std::memcmp(p - k, needle.data(), needle.size()) == 0) return true;
      ++p;
    }
    return false;
  }
  struct MatchContext {
    SigmaScanner* self;
    const SlotDatabase* db;
    std::uint32_t value;
    std::size_t length;
    bool literal;
    bool trigger;  ///< fire triggers (the event scan); false for scans made while evaluating
  };

  void fire(std::uint32_t atom, std::uint32_t value) {
    if (atom_hit_[atom] != no_index) return;
    atom_hit_[atom] = value;
    fired_.push_back(atom);
    for (std::uint32_t i = p_.opens_begin[atom]; i < p_.opens_begin[atom + 1]; ++i)
      open_group(p_.opens_groups[i]);
    for (std::uint32_t i = p_.trigger_begin[atom]; i < p_.trigger_begin[atom + 1]; ++i) {
      const std::uint32_t r = p_.trigger_rules[i];
      if (!rule_mark_[r]) {
        rule_mark_[r] = 1;
        candidates_.push_back(r);
      }
    }
  }

  void open_group(std::uint32_t g) {
    if (group_open_[g]) return;
    group_open_[g] = 1;
    open_groups_.push_back(g);
  }

  static int on_match(unsigned id, unsigned long long /*from*/, unsigned long long to,
                      unsigned /*flags*/, void* context) {
    auto* cx = static_cast<MatchContext*>(context);
    SigmaScanner& s = *cx->self;
    const std::uint32_t atom = cx->db->atoms[id];
    if (s.atom_hit_[atom] != no_index) return 0;
    // A keyword group's mixed database (compile.cpp) holds regexes too: length 0.
    if (cx->literal && cx->db->lengths[id] != 0) {
      const Atom& a = s.p_.atoms[atom];
      const unsigned long long from = to - cx->db->lengths[id];
      switch (a.mode) {
        case LiteralMode::equals:
          if (from != 0 || to != cx->length) return 0;
          break;
        case LiteralMode::prefix:
          if (from != 0) return 0;
          break;
        case LiteralMode::suffix:
          if (to != cx->length) return 0;
          break;
        case LiteralMode::contains:
          break;
      }
    }
    if (cx->trigger) {
      s.fire(atom, cx->value);
    } else {
      s.atom_hit_[atom] = cx->value;
      s.fired_.push_back(atom);
    }
    return 0;
  }

  /// Fires the eager `equals` atoms that value `index` (`text`) equals.
  void match_equals(const EqualsTable& t, std::string_view text, std::uint32_t index) {
    if (!t.cased.empty()) {
      if (auto it = t.cased.find(text); it != t.cased.end())
        for (auto a : it->second)
          fire(a, index);
    }
    if (!t.caseless.empty()) {
      equals_key_.resize(text.size());
      fold_into(text.data(), text.size(), equals_key_.data());
      if (auto it = t.caseless.find(std::string_view(equals_key_)); it != t.caseless.end())
        for (auto a : it->second)
          fire(a, index);
    }
  }

  void scan_database(const SlotDatabase& db, bool literal, std::uint32_t value,
                     bool trigger = true) {
    if (!db.database) return;
    const std::string_view text = values_[value].text;
    MatchContext cx{this, &db, value, text.size(), literal, trigger};
    if (!hs_scan_block(db.database, text, scratch_, &on_match, &cx)) ++scan_errors_;
  }

  void add_value(std::uint32_t slot, std::string_view name, std::string_view text) {
    const auto index = static_cast<std::uint32_t>(values_.size());
    if (slot_first_[slot] == no_index) touched_.push_back(slot);
    values_.push_back(Value{slot, slot_first_[slot], name, text});
    slot_first_[slot] = index;
    if (reference_) return;
    if (slot == keywords_slot_) {
      keyword_values_.push_back(index);  // scanned last, and only when needed
      return;
    }
    const Slot& s = p_.slots[slot];
    if (!s.equals.empty() && text.size() <= s.equals.longest) match_equals(s.equals, text, index);
    scan_database(s.literals, true, index);
    scan_database(s.regexes, false, index);
  }

  /// Scans the keywords with every keyword group that opened, and with the gates: they are in
  /// every group's database, so they are scanned alone only when no group with a database
  /// opened (then they may open some).
  void scan_keywords() {
    if (keyword_values_.empty()) return;
    for (auto g : p_.keyword_groups_always)
      open_group(g);
    bool gates = false;
    // Scanning may fire atoms that open more groups: `open_groups_` grows meanwhile.
    for (std::size_t i = 0;; ++i) {
      if (i == open_groups_.size()) {
        if (gates) break;
        gates = true;
        for (auto v : keyword_values_) {
          scan_database(p_.keyword_gate_literals, true, v);
          scan_database(p_.keyword_gate_regexes, false, v);
        }
        if (i == open_groups_.size()) break;
      }
      const Program::KeywordGroup& group = p_.keyword_groups[open_groups_[i]];
      if (group.literals.database || group.regexes.database) gates = true;
      for (auto v : keyword_values_) {
        scan_database(group.literals, true, v);
        scan_database(group.regexes, false, v);
      }
      group_open_[open_groups_[i]] = group_scanned;
    }
    gates_scanned_ = true;
  }

  /// Whether atom `a` (not marked hit) is known not to match: its database was scanned, or it
  /// was matched on demand already.
  bool atom_known(const Atom& a, std::uint32_t atom) const {
    if (a.slot == keywords_slot_) {
      if (p_.keyword_gate[atom] && gates_scanned_) return true;
      for (std::uint32_t i = p_.in_groups_begin[atom]; i < p_.in_groups_begin[atom + 1]; ++i)
        if (group_open_[p_.in_groups[i]] == group_scanned) return true;
    } else if (a.eager) {
      return true;
    }
    if (a.literal) return atom_done_[atom] != 0;
    return (slot_flags_[a.slot] & lazy_regexes_scanned) != 0;
  }

  /// Matches a lazy atom (or an eager one whose keywords scan was skipped) on demand.
  void resolve_atom(const Atom& a, std::uint32_t atom) {
    if (a.literal) {
      atom_done_[atom] = 1;
      done_.push_back(atom);
      for (std::uint32_t v = slot_first_[a.slot]; v != no_index; v = values_[v].next) {
        if (literal_matches(a, v)) {
          atom_hit_[atom] = v;
          fired_.push_back(atom);
          break;
        }
      }
    } else {
      slot_flags_[a.slot] |= lazy_regexes_scanned;
      const SlotDatabase& db = p_.slots[a.slot].lazy_regexes;
      for (std::uint32_t v = slot_first_[a.slot]; v != no_index; v = values_[v].next)
        scan_database(db, false, v, false);
    }
  }

  /// True when atom `atom` matches a value of its slot, matching it now if needed.
  bool atom_fired(std::uint32_t atom) {
    if (atom_hit_[atom] != no_index) return true;
    const Atom& a = p_.atoms[atom];
    if (atom_known(a, atom)) return false;
    resolve_atom(a, atom);
    return atom_hit_[atom] != no_index;
  }

  void add_header(HeaderField h, std::string_view name, std::string_view text) {
    const std::uint32_t slot = p_.header_slots[static_cast<int>(h)];
    if (slot != no_index && !text.empty()) add_value(slot, name, text);
  }

  void reset() {
    for (auto a : fired_)
      atom_hit_[a] = no_index;
    fired_.clear();
    for (auto s : touched_) {
      slot_first_[s] = no_index;
      slot_flags_[s] = 0;
    }
    touched_.clear();
    values_.clear();
    for (auto r : candidates_)
      rule_mark_[r] = 0;
    candidates_.clear();
    for (auto a : done_)
      atom_done_[a] = 0;
    done_.clear();
    for (auto g : open_groups_)
      group_open_[g] = 0;
    open_groups_.clear();
    gates_scanned_ = false;
    keyword_values_.clear();
    folded_.clear();
  }

  void scan_event(const Event& e, std::uint32_t index, std::vector<Detection>& out) {
    reset();
    add_header(HeaderField::keywords, "message", e.message.empty() ? e.raw : e.message);
    add_header(HeaderField::message, "message", e.message);
    add_header(HeaderField::raw, "raw", e.raw);
    add_header(HeaderField::host, "host", e.host);
    add_header(HeaderField::app, "app", e.app);
    add_header(HeaderField::procid, "procid", e.procid);
    add_header(HeaderField::msgid, "msgid", e.msgid);
    add_header(HeaderField::format, "format", to_string(e.format));
    if (e.facility < 24) add_header(HeaderField::facility, "facility", small_numbers[e.facility]);
    if (e.severity < 24) add_header(HeaderField::severity, "severity", small_numbers[e.severity]);
    for (const Field& f : e.fields) {
      const std::uint32_t slot = slot_cache_.find(f.name, [&](std::string_view raw) {
        const std::string_view name =
            p_.normalizer.normalize(raw, name_buffer_, sizeof name_buffer_);
        auto it = p_.slot_by_name.find(name);
        return it == p_.slot_by_name.end() ? no_index : it->second;
      });
      if (slot == no_index) continue;
      add_value(slot, f.name, f.value);
    }
    if (!reference_) scan_keywords();
    if (reference_) {
      for (std::uint32_t r = 0; r < p_.rules.size(); ++r) {
        if (!rule_mark_[r]) {
          rule_mark_[r] = 1;
          candidates_.push_back(r);
        }
      }
    }
    for (auto r : p_.always_rules) {
      if (!rule_mark_[r]) {
        rule_mark_[r] = 1;
        candidates_.push_back(r);
      }
    }
    for (auto r : candidates_) {
      const CompiledRule& rule = p_.rules[r];
      if (!eval(rule.root)) continue;
      Detection d;
      d.event_index = index;
      d.rule_index = r;
      if (!reference_) collect_matched(rule, d.matched);
      out.push_back(std::move(d));
    }
  }

  void collect_matched(const CompiledRule& rule, std::vector<MatchedField>& matched) {
    auto add = [&](const Value& v) {
      for (const auto& m : matched)
        if (m.name == v.name && m.value == v.text) return;
      matched.push_back(MatchedField{std::string(v.name), std::string(v.text)});
    };
    for (std::uint32_t i = rule.leaf_begin; i < rule.leaf_end; ++i) {
      const Leaf& l = p_.leaves[i];
      if (!l.positive || l.context) continue;
      if (l.kind == LeafKind::atom) {
        if (eval_leaf(l) && atom_hit_[l.atom] != no_index) add(values_[atom_hit_[l.atom]]);
      } else if (slot_first_[l.slot] != no_index && eval_leaf(l)) {
        add(values_[slot_first_[l.slot]]);
      }
    }
  }

  template <class F>
  bool any_value(std::uint32_t slot, F&& f) const {
    for (std::uint32_t v = slot_first_[slot]; v != no_index; v = values_[v].next)
      if (f(values_[v].text)) return true;
    return false;
  }

  /// The reference matcher for one atom: what Hyperscan plus the callback's checks decide.
  bool reference_atom(std::uint32_t atom, std::uint32_t slot) const {
    const Atom& a = p_.atoms[atom];
    return any_value(slot, [&](std::string_view t) {
      if (!a.literal) {
        const RE2& re = *reference_regexes_[atom];
        return RE2::PartialMatch(re2::StringPiece(t.data(), t.size()), re);
      }
      // Kept apart from `literal_matches` (the scanner's on-demand matcher) on purpose: the
      // differential test then checks that one too.
      const std::string_view lit = a.pattern;
      if (lit.size() > t.size()) return false;
      auto eq = [&](std::string_view x) { return a.caseless ? equal_fold(x, lit) : x == lit; };
      switch (a.mode) {
        case LiteralMode::equals:
          return eq(t);
        case LiteralMode::prefix:
          return eq(t.substr(0, lit.size()));
        case LiteralMode::suffix:
          return eq(t.substr(t.size() - lit.size()));
        case LiteralMode::contains:
          for (std::size_t i = 0; i + lit.size() <= t.size(); ++i)
            if (eq(t.substr(i, lit.size()))) return true;
          return false;
      }
      return false;
    });
  }

  bool eval_leaf(const Leaf& l) {
    switch (l.kind) {
      case LeafKind::atom:
        if (reference_) {
          if (!reference_atom(l.atom, l.slot)) return false;
          if (!p_.atoms[l.atom].prefilter) return true;
          const RE2& re = *p_.regexes[l.re2];
          return any_value(l.slot, [&](std::string_view t) {
            return RE2::PartialMatch(re2::StringPiece(t.data(), t.size()), re);
          });
        }
        if (!atom_fired(l.atom)) return false;
        if (!p_.atoms[l.atom].prefilter) return true;
        [[fallthrough]];
      case LeafKind::re2_only: {
        const RE2& re = *p_.regexes[l.re2];
        return any_value(l.slot, [&](std::string_view t) {
          return RE2::PartialMatch(re2::StringPiece(t.data(), t.size()), re);
        });
      }
      case LeafKind::exists:
        return slot_first_[l.slot] != no_index;
      case LeafKind::empty:
        return any_value(l.slot, [](std::string_view t) { return t.empty(); });
      case LeafKind::numeric:
        return any_value(l.slot, [&](std::string_view t) {
          double x = 0;
          auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), x);
          if (ec != std::errc{} || ptr != t.data() + t.size()) return false;
          switch (l.compare) {
            case Compare::gt:
              return x > l.number;
            case Compare::gte:
              return x >= l.number;
            case Compare::lt:
              return x < l.number;
            case Compare::lte:
              return x <= l.number;
          }
          return false;
        });
      case LeafKind::cidr:
        return any_value(l.slot, [&](std::string_view t) {
          std::uint8_t addr[16] = {};
          if (!parse_ip(t, l.network.family, addr)) return false;
          const int full = l.network.prefix / 8;
          if (std::memcmp(addr, l.network.bytes, full) != 0) return false;
          const int rest = l.network.prefix % 8;
          if (rest == 0) return true;
          const std::uint8_t mask = static_cast<std::uint8_t>(0xff << (8 - rest));
          return (addr[full] & mask) == (l.network.bytes[full] & mask);
        });
      case LeafKind::fieldref:
        return any_value(l.slot, [&](std::string_view a) {
          return any_value(l.ref_slot, [&](std::string_view b) {
            auto eq = [&](std::string_view x, std::string_view y) {
              return l.cased ? x == y : equal_fold(x, y);
            };
            switch (l.ref_mode) {
              case LiteralMode::equals:
                return eq(a, b);
              case LiteralMode::prefix:
                return a.size() >= b.size() && eq(a.substr(0, b.size()), b);
              case LiteralMode::suffix:
                return a.size() >= b.size() && eq(a.substr(a.size() - b.size()), b);
              case LiteralMode::contains:
                return l.cased ? a.find(b) != std::string_view::npos : find_fold(a, b);
            }
            return false;
          });
        });
    }
    return false;
  }

  bool eval(std::uint32_t n) {
    const Node& node = p_.nodes[n];
    switch (node.kind) {
      case Node::Kind::true_:
        return true;
      case Node::Kind::false_:
        return false;
      case Node::Kind::leaf: {
        // Most leaves are atoms whose answer is already known after the event scan: answer
        // those here, without a call (eval_leaf is large and costs a full prologue per leaf).
        const Leaf& l = p_.leaves[node.first];
        if (l.kind == LeafKind::atom && !reference_) {
          const Atom& a = p_.atoms[l.atom];
          if (atom_hit_[l.atom] != no_index) {
            if (!a.prefilter) return true;
          } else if (a.eager && a.slot != keywords_slot_) {
            return false;  // scanned on every event (atom_known)
          }
        }
        return eval_leaf(l);
      }
      case Node::Kind::not_:
        return !eval(p_.children[node.first]);
      case Node::Kind::and_:
        for (std::uint32_t i = 0; i < node.count; ++i)
          if (!eval(p_.children[node.first + i])) return false;
        return true;
      case Node::Kind::or_:
        for (std::uint32_t i = 0; i < node.count; ++i)
          if (eval(p_.children[node.first + i])) return true;
        return false;
    }
    return false;
  }

  std::shared_ptr<const SigmaRuleSet> set_;
  const Program& p_;
  HsScratch scratch_;
  std::vector<std::uint32_t> slot_first_;
  std::vector<std::uint32_t> atom_hit_;
  std::vector<std::uint8_t> rule_mark_;
  std::vector<Value> values_;
  std::vector<std::uint32_t> touched_;
  std::vector<std::uint32_t> fired_;
  std::vector<std::uint32_t> candidates_;
  std::uint32_t keywords_slot_ = no_index;
  std::vector<std::uint32_t> keyword_values_;
  static constexpr std::uint8_t group_scanned = 2;
  std::vector<std::uint8_t> group_open_;  ///< per keyword group, this event: 1 open, 2 scanned
  bool gates_scanned_ = false;
  std::vector<std::uint32_t> open_groups_;
  std::string folded_;      ///< lower-cased values for on-demand caseless matching
  std::string equals_key_;  ///< a value in lower case, for `EqualsTable::caseless`
  static constexpr std::uint8_t lazy_regexes_scanned = 1;
  std::vector<std::uint8_t> slot_flags_;  ///< per slot, this event
  std::vector<std::uint8_t> atom_done_;   ///< lazy literal atoms matched on demand this event
  std::vector<std::uint32_t> done_;
  std::uint64_t scan_errors_ = 0;
  char name_buffer_[256];
  SlotCache slot_cache_;
  bool reference_ = false;
  std::vector<std::unique_ptr<RE2>> reference_regexes_;
};

}  // namespace

std::unique_ptr<RuleScanner> SigmaRuleSet::make_scanner() const {
  auto scratch = program_->prototype_scratch.clone();
  // Cloning fails only when memory is exhausted; a scanner without scratch cannot scan at all.
  SLUICE_ASSERT(scratch.has_value(), "hs_clone_scratch failed: " + scratch.error().message);
  return std::make_unique<SigmaScanner>(shared_from_this(), std::move(scratch).value());
}

}  // namespace sluice::rules::detail

namespace sluice::rules {

std::unique_ptr<RuleScanner> make_reference_scanner(const std::shared_ptr<const RuleSet>& set) {
  auto sigma = std::dynamic_pointer_cast<const detail::SigmaRuleSet>(set);
  SLUICE_ASSERT(sigma != nullptr, "make_reference_scanner needs a rule set from load_sigma");
  return std::make_unique<detail::SigmaScanner>(sigma, detail::HsScratch{}, true);
}

}  // namespace sluice::rules
