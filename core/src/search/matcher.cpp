// SPDX-License-Identifier: Apache-2.0
/// Query compilation (terms to Hyperscan patterns and field checks, token requirements for block
/// pruning) and per-event evaluation.
#include "sluice/search/matcher.hpp"

#include <algorithm>
#include <cstring>

#include "hs_search.hpp"
#include "sluice/common/assert.hpp"
#include "sluice/store/tokens.hpp"

namespace sluice::search {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (token_lower(a[i]) != token_lower(b[i])) return false;
  return true;
}

namespace {

bool word_byte(char c) {
  return is_token_byte(static_cast<unsigned char>(c));
}

bool boundary_after(std::string_view text, std::size_t end) {
  return end == text.size() || !word_byte(text[end]);
}

/// Glob over token bytes starting at text[t], ending at a word boundary (query.hpp, wildcards).
bool wildcard_here(std::string_view text, std::size_t t, std::string_view p) {
  while (!p.empty()) {
    const char c = p[0];
    if (c == '*') {
      while (!p.empty() && p[0] == '*')
        p.remove_prefix(1);
      std::size_t k = t;
      while (true) {
        if (wildcard_here(text, k, p)) return true;
        if (k < text.size() && word_byte(text[k])) {
          ++k;
        } else {
          return false;
        }
      }
    }
    if (t >= text.size()) return false;
    if (c == '?') {
      if (!word_byte(text[t])) return false;
    } else if (token_lower(c) != token_lower(text[t])) {
      return false;
    }
    ++t;
    p.remove_prefix(1);
  }
  return boundary_after(text, t);
}

}  // namespace

bool contains_word(std::string_view text, std::string_view needle) {
  if (needle.empty() || needle.size() > text.size()) return false;
  const char first = token_lower(needle[0]);
  for (std::size_t i = 0; i + needle.size() <= text.size(); ++i) {
    if (token_lower(text[i]) != first) continue;
    if (i > 0 && word_byte(text[i - 1])) continue;
    if (!iequals(text.substr(i, needle.size()), needle)) continue;
    if (boundary_after(text, i + needle.size())) return true;
  }
  return false;
}

bool contains_wildcard_word(std::string_view text, std::string_view pattern) {
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i > 0 && word_byte(text[i - 1])) continue;
    if (wildcard_here(text, i, pattern)) return true;
  }
  return false;
}

bool glob_matches(std::string_view value, std::string_view pattern) {
  std::size_t v = 0, p = 0;
  std::size_t star_p = std::string_view::npos, star_v = 0;
  while (v < value.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star_p = p++;
      star_v = v;
    } else if (p < pattern.size() &&
               (pattern[p] == '?' || token_lower(pattern[p]) == token_lower(value[v]))) {
      ++p;
      ++v;
    } else if (star_p != std::string_view::npos) {
      p = star_p + 1;
      v = ++star_v;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*')
    ++p;
  return p == pattern.size();
}

namespace detail {

/// How one term is checked.
enum class Check : std::uint8_t {
  raw_hit,       ///< Hyperscan pattern on the raw line (`hs_id`)
  message_word,  ///< contains_word on the message
  message_wild,  ///< contains_wildcard_word on the message
  field_equal,   ///< whole value, case-insensitive
  field_glob,    ///< glob_matches on the whole value
  field_regex,   ///< Hyperscan database `db` on the value
  field_cidr,    ///< the value is an address in the range
};

struct CompiledTerm {
  Check check = Check::raw_hit;
  FieldRef field;
  std::string value;
  Cidr cidr;
  unsigned hs_id = 0;  ///< raw_hit: pattern id; field_regex: index into field_dbs
};

struct Node {
  Expr::Op op = Expr::Op::all;
  std::uint32_t term = 0;
  std::vector<std::uint32_t> children;
};

struct CompiledState {
  std::vector<CompiledTerm> terms;
  std::vector<Node> nodes;  ///< nodes[0] is the root
  HsDb raw_db;
  std::size_t raw_patterns = 0;
  std::vector<HsDb> field_dbs;
  HsScratch prototype;
};

}  // namespace detail

namespace {

using detail::Check;
using detail::CompiledState;
using detail::CompiledTerm;
using detail::Node;

constexpr std::string_view not_word = "[^A-Za-z0-9_]";
constexpr std::string_view word_class = "[A-Za-z0-9_]";

void append_escaped(std::string& out, char c) {
  static constexpr char hex[] = "0123456789abcdef";
  const auto u = static_cast<unsigned char>(c);
  if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9')) {
    out += c;
  } else {
    out += "\\x";
    out += hex[u >> 4];
    out += hex[u & 0xf];
  }
}

/// The Hyperscan form of a word-bounded free-text (or wildcard) term.
std::string word_pattern(std::string_view text, bool wildcard) {
  std::string p = "(?:^|";
  p += not_word;
  p += ")";
  for (char c : text) {
    if (wildcard && c == '*') {
      p += word_class;
      p += '*';
    } else if (wildcard && c == '?') {
      p += word_class;
    } else {
      append_escaped(p, c);
    }
  }
  p += "(?:";
  p += not_word;
  p += "|$)";
  return p;
}

/// Whole tokens of a word-bounded pattern (`*`/`?` wildcards when `wildcard`): a token counts when
/// both its ends meet a literal non-token byte or an edge of the pattern, never a wildcard.
std::vector<std::string> whole_tokens(std::string_view text, bool wildcard) {
  std::vector<std::string> out;
  const auto is_wild = [&](char c) { return wildcard && (c == '*' || c == '?'); };
  std::size_t i = 0;
  while (i < text.size()) {
    if (!word_byte(text[i])) {
      ++i;
      continue;
    }
    const std::size_t start = i;
    while (i < text.size() && word_byte(text[i]))
      ++i;
    const bool left_ok = start == 0 || !is_wild(text[start - 1]);
    const bool right_ok = i == text.size() || !is_wild(text[i]);
    if (left_ok && right_ok) {
      std::string t(text.substr(start, i - start));
      for (auto& c : t)
        c = token_lower(c);
      out.push_back(std::move(t));
    }
  }
  return out;
}

TokenRequirement tokens_requirement(std::vector<std::string> tokens) {
  TokenRequirement r;
  if (tokens.empty()) return r;
  r.op = TokenRequirement::Op::tokens;
  r.tokens = std::move(tokens);
  return r;
}

/// Fields whose values the store indexes as tokens (store-search contract).
bool field_is_indexed(FieldId id) {
  switch (id) {
    case FieldId::raw:
    case FieldId::host:
    case FieldId::app:
    case FieldId::procid:
    case FieldId::msgid:
    case FieldId::source_path:
    case FieldId::extracted:
      return true;
    default:
      return false;
  }
}

class Compiler {
 public:
  Compiler(CompiledState& state, QueryError& error) : st_(state), error_(error) {}

  /// Builds nodes for `e` and returns its index and token requirement.
  std::uint32_t build(const Expr& e, TokenRequirement& req) {
    const auto index = static_cast<std::uint32_t>(st_.nodes.size());
    st_.nodes.emplace_back();
    st_.nodes[index].op = e.op;
    switch (e.op) {
      case Expr::Op::all:
        break;
      case Expr::Op::term:
        st_.nodes[index].term = add_term(e.term, req);
        break;
      case Expr::Op::and_:
      case Expr::Op::or_: {
        req.op = e.op == Expr::Op::and_ ? TokenRequirement::Op::and_ : TokenRequirement::Op::or_;
        for (const auto& c : e.children) {
          TokenRequirement child;
          const auto ci = build(c, child);
          st_.nodes[index].children.push_back(ci);
          req.children.push_back(std::move(child));
        }
        break;
      }
      case Expr::Op::not_: {
        TokenRequirement ignored;  // a negation cannot require anything to be present
        const auto ci = build(e.children[0], ignored);
        st_.nodes[index].children.push_back(ci);
        break;
      }
    }
    return index;
  }

  std::vector<std::string> raw_patterns;
  std::vector<unsigned> raw_flags;
  std::vector<std::size_t> raw_columns;
  std::vector<std::string> field_patterns;
  std::vector<unsigned> field_flags;
  std::vector<std::size_t> field_columns;

 private:
  std::uint32_t add_term(const Term& t, TokenRequirement& req) {
    CompiledTerm ct;
    const FieldId fid = t.field ? t.field->id : FieldId::raw;
    if (t.field) ct.field = *t.field;
    ct.value = t.value;
    const unsigned base = detail::hs_flags::singlematch | detail::hs_flags::allowempty;
    if (fid == FieldId::raw && t.kind != TermKind::cidr) {
      ct.check = Check::raw_hit;
      ct.hs_id = static_cast<unsigned>(raw_patterns.size());
      if (t.kind == TermKind::regex) {
        raw_patterns.push_back(t.value);
        raw_flags.push_back(base | (t.caseless ? detail::hs_flags::caseless : 0));
      } else {
        const bool wild = t.kind == TermKind::wildcard;
        raw_patterns.push_back(word_pattern(t.value, wild));
        raw_flags.push_back(base | detail::hs_flags::caseless);
        req = tokens_requirement(whole_tokens(t.value, wild));
      }
      raw_columns.push_back(t.column);
    } else if (t.kind == TermKind::regex) {
      ct.check = Check::field_regex;
      ct.hs_id = static_cast<unsigned>(field_patterns.size());
      field_patterns.push_back(t.value);
      field_flags.push_back(base | (t.caseless ? detail::hs_flags::caseless : 0));
      field_columns.push_back(t.column);
    } else if (t.kind == TermKind::cidr) {
      ct.check = Check::field_cidr;
      ct.cidr = t.cidr;
    } else if (fid == FieldId::message) {
      // Messages are not indexed as such (a decoded JSON message may hold tokens its raw line
      // spells differently), so message terms never prune.
      ct.check = t.kind == TermKind::wildcard ? Check::message_wild : Check::message_word;
    } else if (t.kind == TermKind::wildcard) {
      ct.check = Check::field_glob;
      if (field_is_indexed(fid)) {
        // The whole value is tokenized, so its edges are token edges.
        req = tokens_requirement(whole_tokens(t.value, true));
      }
    } else {
      ct.check = Check::field_equal;
      if (field_is_indexed(fid)) req = tokens_requirement(whole_tokens(t.value, false));
    }
    st_.terms.push_back(std::move(ct));
    return static_cast<std::uint32_t>(st_.terms.size() - 1);
  }

  CompiledState& st_;
  QueryError& error_;
};

void collect_required(const Expr& e, std::vector<RequiredValue>& out) {
  if (e.op == Expr::Op::and_) {
    for (const auto& c : e.children)
      collect_required(c, out);
  } else if (e.op == Expr::Op::term && e.term.field && e.term.kind == TermKind::text) {
    const FieldId id = e.term.field->id;
    if (id == FieldId::host || id == FieldId::app || id == FieldId::source_path)
      out.push_back(RequiredValue{id, e.term.value});
  }
}

}  // namespace

std::unique_ptr<CompiledQuery> CompiledQuery::compile(const Query& query, QueryError& error) {
  std::unique_ptr<CompiledQuery> cq(new CompiledQuery());
  cq->query_ = query;
  cq->state_ = std::make_unique<CompiledState>();
  CompiledState& st = *cq->state_;
  Compiler c(st, error);
  c.build(query.root, cq->tokens_);
  collect_required(query.root, cq->required_);
  cq->raw_only_ =
      !st.terms.empty() && std::all_of(st.terms.begin(), st.terms.end(),
                                       [](const auto& t) { return t.check == Check::raw_hit; });
  int bad = -1;
  std::string message;
  if (!c.raw_patterns.empty()) {
    if (!st.raw_db.compile(c.raw_patterns, c.raw_flags, bad, message)) {
      error.column = bad >= 0 ? c.raw_columns[static_cast<std::size_t>(bad)] : 1;
      error.message = "bad pattern: " + message;
      return nullptr;
    }
    st.raw_patterns = c.raw_patterns.size();
    if (!st.prototype.reserve_for(st.raw_db)) {
      error.message = "Hyperscan cannot allocate scratch space";
      return nullptr;
    }
  }
  for (std::size_t i = 0; i < c.field_patterns.size(); ++i) {
    detail::HsDb db;
    if (!db.compile({c.field_patterns[i]}, {c.field_flags[i]}, bad, message)) {
      error.column = c.field_columns[i];
      error.message = "bad regex: " + message;
      return nullptr;
    }
    if (!st.prototype.reserve_for(db)) {
      error.message = "Hyperscan cannot allocate scratch space";
      return nullptr;
    }
    st.field_dbs.push_back(std::move(db));
  }
  return cq;
}

CompiledQuery::~CompiledQuery() = default;

struct Matcher::Scratch {
  detail::HsScratch hs;
  std::vector<std::uint8_t> hits;
  bool any_hit = false;
  char buf[field_buffer_bytes];
};

std::unique_ptr<Matcher> CompiledQuery::make_matcher() const {
  return std::unique_ptr<Matcher>(new Matcher(*this));
}

Matcher::Matcher(const CompiledQuery& query)
    : query_(query), scratch_(std::make_unique<Scratch>()) {
  const CompiledState& st = *query.state_;
  // Cloning only allocates; failing here means the process is out of memory.
  const bool cloned = st.prototype.clone_into(scratch_->hs);
  SLUICE_ASSERT(cloned, "Hyperscan cannot clone scratch space (out of memory)");
  scratch_->hits.assign(st.raw_patterns, 0);
}

Matcher::~Matcher() = default;

namespace {

struct HitContext {
  std::uint8_t* hits;
};

int on_raw_hit(unsigned id, unsigned long long, unsigned long long, unsigned, void* ctx) {
  static_cast<HitContext*>(ctx)->hits[id] = 1;
  return 0;
}

int on_any_hit(unsigned, unsigned long long, unsigned long long, unsigned, void* ctx) {
  *static_cast<bool*>(ctx) = true;
  return 1;
}

}  // namespace

bool Matcher::matches(const StoredEvent& event) {
  const CompiledState& st = *query_.state_;
  Scratch& s = *scratch_;
  if (st.raw_patterns > 0) {
    std::memset(s.hits.data(), 0, s.hits.size());
    HitContext ctx{s.hits.data()};
    if (!detail::hs_scan_text(st.raw_db, event.event.raw, s.hs, on_raw_hit, &ctx)) {
      ++scan_errors_;
      return false;
    }
  }
  // Evaluate the tree iteratively would need a stack; the depth is the query's nesting, small.
  struct Eval {
    const CompiledState& st;
    Scratch& s;
    const StoredEvent& ev;
    std::uint64_t& errors;
    bool term(const CompiledTerm& t) {
      if (t.check == Check::raw_hit) return s.hits[t.hs_id] != 0;
      auto v = field_value(ev, t.field, s.buf);
      if (!v) return false;
      switch (t.check) {
        case Check::raw_hit:
          return false;
        case Check::message_word:
          return contains_word(*v, t.value);
        case Check::message_wild:
          return contains_wildcard_word(*v, t.value);
        case Check::field_equal:
          return iequals(*v, t.value);
        case Check::field_glob:
          return glob_matches(*v, t.value);
        case Check::field_cidr:
          return t.cidr.contains(*v);
        case Check::field_regex: {
          bool hit = false;
          if (!detail::hs_scan_text(st.field_dbs[t.hs_id], *v, s.hs, on_any_hit, &hit)) {
            ++errors;
            return false;
          }
          return hit;
        }
      }
      return false;
    }
    bool node(std::uint32_t i) {
      const Node& n = st.nodes[i];
      switch (n.op) {
        case Expr::Op::all:
          return true;
        case Expr::Op::term:
          return term(st.terms[n.term]);
        case Expr::Op::and_:
          for (auto c : n.children)
            if (!node(c)) return false;
          return true;
        case Expr::Op::or_:
          for (auto c : n.children)
            if (node(c)) return true;
          return false;
        case Expr::Op::not_:
          return !node(n.children[0]);
      }
      return false;
    }
  };
  Eval eval{st, s, event, scan_errors_};
  return eval.node(0);
}

}  // namespace sluice::search
