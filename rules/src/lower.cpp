// SPDX-License-Identifier: Apache-2.0
/// Lowering of Sigma detections (compile-side). Sigma semantics implemented here, with the
/// specification section each follows:
/// - values are case-insensitive unless `|cased` ("General": "All values are treated as
///   case-insensitive strings"); regexes are case-sensitive unless `|i`;
/// - `*` and `?` wildcards, `\` escapes only before `*`, `?` and `\` ("Escape Character");
/// - lists are OR, maps are AND, `|all` turns a list into AND ("Lists", "Maps", modifiers);
/// - `null` is an absent field; `''` is a present, empty field ("Special Field Values");
/// - keywords are substring searches over the message (or the raw line when there is none)
///   ("Keywords search");
/// - modifiers apply in the order written ("Value Modifiers").
/// Hyperscan's caseless mode folds ASCII only; non-ASCII letters compare exactly.
#include "lower.hpp"

#include <arpa/inet.h>
#include <re2/re2.h>

#include <algorithm>
#include <cstring>

namespace sluice::rules::detail {
namespace {

struct Piece {
  enum class Kind : std::uint8_t { lit, star, one };
  Kind kind;
  std::string text;
};
using Glob = std::vector<Piece>;

void push_lit(Glob& g, const std::string& s) {
  if (s.empty()) return;
  if (!g.empty() && g.back().kind == Piece::Kind::lit) {
    g.back().text += s;
  } else {
    g.push_back({Piece::Kind::lit, s});
  }
}

/// Spec "Escape Character": `\` escapes `*`, `?` and `\`; before anything else it is literal.
Glob parse_glob(const std::string& s) {
  Glob g;
  std::string lit;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\\') {
      if (i + 1 < s.size() && (s[i + 1] == '*' || s[i + 1] == '?' || s[i + 1] == '\\')) {
        lit += s[i + 1];
        ++i;
      } else {
        lit += c;
      }
    } else if (c == '*' || c == '?') {
      push_lit(g, lit);
      lit.clear();
      if (c == '*' && !g.empty() && g.back().kind == Piece::Kind::star) continue;
      g.push_back({c == '*' ? Piece::Kind::star : Piece::Kind::one, {}});
    } else {
      lit += c;
    }
  }
  push_lit(g, lit);
  return g;
}

bool has_wildcards(const Glob& g) {
  for (const auto& p : g)
    if (p.kind != Piece::Kind::lit) return true;
  return false;
}

std::string literal_text(const Glob& g) {
  std::string s;
  for (const auto& p : g)
    s += p.text;
  return s;
}

std::string base64(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += t[(v >> 18) & 63];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    out += t[v & 63];
  }
  if (i + 1 == in.size()) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += t[(v >> 18) & 63];
    out += t[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const unsigned v =
        (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += t[(v >> 18) & 63];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

/// The three shifted encodings of `value` inside a longer base64 text, without the characters
/// that depend on its neighbours (pySigma's `base64offset`, the reference for the modifier).
std::vector<std::string> base64_offsets(const std::string& value) {
  static constexpr int start[] = {0, 2, 3};
  static constexpr int end_trim[] = {0, 3, 2};
  std::vector<std::string> out;
  for (int i = 0; i < 3; ++i) {
    std::string enc = base64(std::string(static_cast<std::size_t>(i), ' ') + value);
    const int trim = end_trim[(value.size() + i) % 3];
    const int len = static_cast<int>(enc.size()) - start[i] - trim;
    out.push_back(len > 0 ? enc.substr(start[i], len) : std::string{});
  }
  return out;
}

std::string utf16(const std::string& utf8, bool big_endian) {
  std::string out;
  auto put = [&](unsigned u) {
    if (big_endian) {
      out += static_cast<char>(u >> 8);
      out += static_cast<char>(u & 0xff);
    } else {
      out += static_cast<char>(u & 0xff);
      out += static_cast<char>(u >> 8);
    }
  };
  for (std::size_t i = 0; i < utf8.size();) {
    const unsigned char c = utf8[i];
    unsigned cp = c;
    std::size_t n = 1;
    if (c >= 0xf0 && i + 3 < utf8.size() + 0) {
      cp = ((c & 7u) << 18) | ((utf8[i + 1] & 0x3fu) << 12) | ((utf8[i + 2] & 0x3fu) << 6) |
           (utf8[i + 3] & 0x3fu);
      n = 4;
    } else if (c >= 0xe0 && i + 2 < utf8.size()) {
      cp = ((c & 0xfu) << 12) | ((utf8[i + 1] & 0x3fu) << 6) | (utf8[i + 2] & 0x3fu);
      n = 3;
    } else if (c >= 0xc0 && i + 1 < utf8.size()) {
      cp = ((c & 0x1fu) << 6) | (utf8[i + 1] & 0x3fu);
      n = 2;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      put(0xd800 + (cp >> 10));
      put(0xdc00 + (cp & 0x3ff));
    } else {
      put(cp);
    }
    i += n;
  }
  return out;
}

bool is_word(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

/// `windash`: every `-` or `/` that starts a word (pySigma's `\B[-/]\b`) becomes each of
/// `-`, `/`, en dash, em dash and horizontal bar (modifiers appendix, "windash").
std::vector<Glob> windash(const Glob& g, bool& too_many) {
  static const char* dashes[] = {"-", "/", "\xe2\x80\x93", "\xe2\x80\x94", "\xe2\x80\x95"};
  std::vector<Glob> out{Glob{}};
  for (std::size_t pi = 0; pi < g.size(); ++pi) {
    const Piece& p = g[pi];
    if (p.kind != Piece::Kind::lit) {
      for (auto& o : out)
        o.push_back(p);
      continue;
    }
    std::string run;
    for (std::size_t i = 0; i < p.text.size(); ++i) {
      const char c = p.text[i];
      const bool prev_word = i > 0 && is_word(p.text[i - 1]);
      const bool next_word = i + 1 < p.text.size() && is_word(p.text[i + 1]);
      if ((c == '-' || c == '/') && !prev_word && next_word) {
        std::vector<Glob> next;
        for (const auto& o : out) {
          for (const char* d : dashes) {
            Glob x = o;
            push_lit(x, run + d);
            next.push_back(std::move(x));
          }
        }
        out = std::move(next);
        run.clear();
        // Each dash multiplies the expansion by five; beyond 5^4 the rule is not worth it.
        if (out.size() > 625) {
          too_many = true;
          return {};
        }
      } else {
        run += c;
      }
    }
    for (auto& o : out)
      push_lit(o, run);
  }
  return out;
}

std::string regex_escape(const std::string& s) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c)) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

bool parse_network(const std::string& text, Network& net) {
  std::string addr = text;
  int prefix = -1;
  if (auto slash = text.find('/'); slash != std::string::npos) {
    addr = text.substr(0, slash);
    try {
      prefix = std::stoi(text.substr(slash + 1));
    } catch (...) {
      return false;
    }
  }
  if (inet_pton(AF_INET, addr.c_str(), net.bytes) == 1) {
    net.family = 4;
    if (prefix < 0) prefix = 32;
    if (prefix > 32) return false;
  } else if (inet_pton(AF_INET6, addr.c_str(), net.bytes) == 1) {
    net.family = 6;
    if (prefix < 0) prefix = 128;
    if (prefix > 128) return false;
  } else {
    return false;
  }
  net.prefix = static_cast<std::uint8_t>(prefix);
  return true;
}

struct LowerProblem {
  std::string reason;
  std::string message;
};

}  // namespace

struct Lowerer::Context {
  const LogSourceMapping* logsource = nullptr;
  bool in_predicate = false;  ///< lowering the log source predicate (leaves are `context`)
};

std::uint32_t Lowerer::slot(const std::string& name) {
  if (auto it = p_.slot_by_name.find(name); it != p_.slot_by_name.end()) return it->second;
  const auto id = static_cast<std::uint32_t>(p_.slots.size());
  p_.slots.emplace_back();
  p_.slots.back().name = name;
  p_.slot_by_name.emplace(name, id);
  for (int h = 0; h < static_cast<int>(HeaderField::count_); ++h)
    if (name == header_field_names[h]) p_.header_slots[h] = id;
  return id;
}

std::uint32_t Lowerer::atom(Atom a) {
  std::string key = std::to_string(a.slot) + '\x01' + (a.literal ? 'L' : 'R') +
                    static_cast<char>('0' + static_cast<int>(a.mode)) + (a.caseless ? 'i' : 'c') +
                    (a.prefilter ? 'p' : '-') + std::to_string(a.regex_flags) + '\x01' + a.pattern;
  if (auto it = atom_by_key_.find(key); it != atom_by_key_.end()) return it->second;
  const auto id = static_cast<std::uint32_t>(p_.atoms.size());
  p_.atoms.push_back(std::move(a));
  atom_by_key_.emplace(std::move(key), id);
  return id;
}

std::uint32_t Lowerer::make_leaf(Leaf leaf, Context& cx, bool neg) {
  leaf.positive = !neg;
  leaf.context = cx.in_predicate;
  const auto li = static_cast<std::uint32_t>(p_.leaves.size());
  p_.leaves.push_back(leaf);
  const auto ni = static_cast<std::uint32_t>(p_.nodes.size());
  p_.nodes.push_back(Node{Node::Kind::leaf, li, 0});
  return ni;
}

std::uint32_t Lowerer::make_op(Node::Kind kind, const std::vector<std::uint32_t>& kids) {
  if ((kind == Node::Kind::and_ || kind == Node::Kind::or_) && kids.size() == 1) return kids[0];
  const auto first = static_cast<std::uint32_t>(p_.children.size());
  p_.children.insert(p_.children.end(), kids.begin(), kids.end());
  const auto ni = static_cast<std::uint32_t>(p_.nodes.size());
  if (kids.empty()) {
    p_.nodes.push_back(
        Node{kind == Node::Kind::and_ ? Node::Kind::true_ : Node::Kind::false_, 0, 0});
  } else {
    p_.nodes.push_back(Node{kind, first, static_cast<std::uint32_t>(kids.size())});
  }
  return ni;
}

std::uint32_t Lowerer::regex_leaf(const std::string& pattern, unsigned hs_flags, bool caseless,
                                  bool multiline, bool dotall, std::uint32_t slot_id, Context& cx,
                                  bool neg, bool generated) {
  const std::string key = std::to_string(hs_flags) + '\x01' + pattern;
  int verdict;
  std::string hs_message;
  if (auto it = regex_verdicts_.find(key); it != regex_verdicts_.end()) {
    verdict = it->second;
  } else if (generated) {
    // Wildcard strings become escaped bytes, `.*`, `.` and anchors: Hyperscan always accepts
    // those, so the per-pattern trial compile (the dominant cost of lowering) is skipped.
    verdict = 0;
  } else {
    const bool hs_alone = hs_accepts(pattern, hs_flags, hs_message);
    verdict = 0;
    if (!hs_alone || engine_ != RegexEngine::automatic) {
      std::string ignored;
      const bool prefilter = (!hs_alone || engine_ == RegexEngine::prefilter) &&
                             hs_accepts(pattern, hs_flags | hs_flag::prefilter, ignored);
      RE2::Options opt;
      opt.set_log_errors(false);
      opt.set_case_sensitive(!caseless);
      opt.set_dot_nl(dotall);
      opt.set_never_nl(false);
      opt.set_posix_syntax(false);
      opt.set_encoding(RE2::Options::EncodingLatin1);
      const std::string re2_pattern = multiline ? "(?m)" + pattern : pattern;
      auto re = std::make_unique<RE2>(re2_pattern, opt);
      if (re->ok()) {
        verdict = prefilter ? 1 : 2;
        re2_by_key_.emplace(key, static_cast<std::uint32_t>(p_.regexes.size()));
        p_.regexes.push_back(std::move(re));
      } else if (!hs_alone) {
        verdict = 3;
        regex_verdicts_.emplace(key, verdict);
        throw LowerProblem{"unsupported regex", "regex '" + pattern + "': Hyperscan: " +
                                                    hs_message + "; RE2: " + re->error()};
      }
      // else: a forced engine that cannot take it leaves the regex to Hyperscan alone.
    }
    regex_verdicts_.emplace(key, verdict);
    ++regex_engines_[verdict];
  }
  if (verdict == 3)
    throw LowerProblem{"unsupported regex",
                       "regex '" + pattern + "' is rejected by Hyperscan and RE2"};
  Leaf leaf;
  leaf.slot = slot_id;
  if (verdict == 0) {
    Atom a;
    a.slot = slot_id;
    a.literal = false;
    a.caseless = caseless;
    a.regex_flags = hs_flags;
    a.pattern = pattern;
    leaf.kind = LeafKind::atom;
    leaf.atom = atom(std::move(a));
    return make_leaf(leaf, cx, neg);
  }
  ++regex_fallbacks_;
  leaf.re2 = re2_by_key_.at(key);
  if (verdict == 1) {
    Atom a;
    a.slot = slot_id;
    a.literal = false;
    a.caseless = caseless;
    a.prefilter = true;
    a.regex_flags = hs_flags | hs_flag::prefilter;
    a.pattern = pattern;
    leaf.kind = LeafKind::atom;
    leaf.atom = atom(std::move(a));
  } else {
    leaf.kind = LeafKind::re2_only;
  }
  return make_leaf(leaf, cx, neg);
}

std::uint32_t Lowerer::lower_item(const DetectionItem& item, Context& cx, bool neg) {
  std::vector<std::uint32_t> slots;
  if (item.field.empty()) {
    slots.push_back(slot(header_field_names[static_cast<int>(HeaderField::keywords)]));
  } else {
    for (const auto& name : mapping_.map_field(*cx.logsource, item.field))
      slots.push_back(slot(name));
  }
  const bool cased = item.has(Modifier::cased);
  const bool neq = item.has(Modifier::neq);
  const bool inner_neg = neq ? !neg : neg;
  auto over_slots = [&](auto&& make) {
    std::vector<std::uint32_t> kids;
    for (auto s : slots)
      kids.push_back(make(s));
    return make_op(Node::Kind::or_, kids);
  };

  if (item.has(Modifier::exists)) {
    std::string t = item.values[0].text;
    for (auto& c : t)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const bool want = t == "true" || t == "yes";
    auto make = [&](bool n) {
      return over_slots([&](std::uint32_t s) {
        Leaf l;
        l.kind = LeafKind::exists;
        l.slot = s;
        return make_leaf(l, cx, n);
      });
    };
    return want ? make(neg) : make_op(Node::Kind::not_, {make(!neg)});
  }
  if (item.values.size() == 1 && item.values[0].is_null) {
    // Spec "Special Field Values": null is its own type; we read it as "the field is absent".
    auto present = over_slots([&](std::uint32_t s) {
      Leaf l;
      l.kind = LeafKind::exists;
      l.slot = s;
      return make_leaf(l, cx, !neg);
    });
    return make_op(Node::Kind::not_, {present});
  }

  // `|expand`: each `%name%` placeholder becomes each of its values from the mapping's
  // `placeholders` (pySigma's value-list expansion); a value with placeholders is the OR of its
  // expansions.
  std::vector<std::vector<SigmaValue>> groups;
  for (const auto& v : item.values) {
    if (!item.has(Modifier::expand) || v.is_null) {
      groups.push_back({v});
      continue;
    }
    std::vector<std::string> texts{""};
    std::size_t i = 0;
    while (i < v.text.size()) {
      const auto open = v.text.find('%', i);
      const auto close = open == std::string::npos ? open : v.text.find('%', open + 1);
      if (close == std::string::npos) {
        for (auto& t : texts)
          t += v.text.substr(i);
        break;
      }
      for (auto& t : texts)
        t += v.text.substr(i, open - i);
      const std::string name = v.text.substr(open + 1, close - open - 1);
      auto it = mapping_.placeholders.find(name);
      if (it == mapping_.placeholders.end() || it->second.empty())
        throw LowerProblem{"unresolved placeholder",
                           "'" + item.field + "|expand': placeholder '%" + name +
                               "%' has no values (define it under `placeholders` in " +
                               mapping_.path + ")"};
      std::vector<std::string> next;
      for (const auto& t : texts)
        for (const auto& value : it->second)
          next.push_back(t + value);
      texts = std::move(next);
      i = close + 1;
    }
    std::vector<SigmaValue> group;
    for (auto& t : texts)
      group.push_back(SigmaValue{std::move(t), false});
    groups.push_back(std::move(group));
  }

  std::vector<std::uint32_t> per_value;
  for (const auto& group : groups) {
    std::vector<std::uint32_t> alts;
    for (const auto& v : group) {
      if (item.has(Modifier::fieldref)) {
        const auto targets = mapping_.map_field(*cx.logsource, v.text);
        const std::uint32_t ref = slot(targets.front());
        LiteralMode mode = LiteralMode::equals;
        if (item.has(Modifier::contains))
          mode = LiteralMode::contains;
        else if (item.has(Modifier::startswith))
          mode = LiteralMode::prefix;
        else if (item.has(Modifier::endswith))
          mode = LiteralMode::suffix;
        alts.push_back(over_slots([&](std::uint32_t s) {
          Leaf l;
          l.kind = LeafKind::fieldref;
          l.slot = s;
          l.ref_slot = ref;
          l.ref_mode = mode;
          l.cased = cased;
          return make_leaf(l, cx, inner_neg);
        }));
      } else if (item.has(Modifier::gt) || item.has(Modifier::gte) || item.has(Modifier::lt) ||
                 item.has(Modifier::lte)) {
        Compare op = item.has(Modifier::gt)    ? Compare::gt
                     : item.has(Modifier::gte) ? Compare::gte
                     : item.has(Modifier::lt)  ? Compare::lt
                                               : Compare::lte;
        const double number = std::strtod(v.text.c_str(), nullptr);
        alts.push_back(over_slots([&](std::uint32_t s) {
          Leaf l;
          l.kind = LeafKind::numeric;
          l.slot = s;
          l.compare = op;
          l.number = number;
          return make_leaf(l, cx, inner_neg);
        }));
      } else if (item.has(Modifier::cidr)) {
        Network net;
        if (!parse_network(v.text, net))
          throw LowerProblem{"invalid value",
                             "'" + item.field + "|cidr': '" + v.text + "' is not a network"};
        alts.push_back(over_slots([&](std::uint32_t s) {
          Leaf l;
          l.kind = LeafKind::cidr;
          l.slot = s;
          l.network = net;
          return make_leaf(l, cx, inner_neg);
        }));
      } else if (item.has(Modifier::re)) {
        const bool ci = item.has(Modifier::re_i);
        const bool ml = item.has(Modifier::re_m);
        const bool dot = item.has(Modifier::re_s);
        unsigned flags = hs_flag::singlematch | hs_flag::allowempty;
        if (ci) flags |= hs_flag::caseless;
        if (ml) flags |= hs_flag::multiline;
        if (dot) flags |= hs_flag::dotall;
        alts.push_back(over_slots([&](std::uint32_t s) {
          return regex_leaf(v.text, flags, ci, ml, dot, s, cx, inner_neg);
        }));
      } else {
        // Wildcard strings, transformed by the modifiers in the order written.
        std::vector<Glob> globs{parse_glob(v.text)};
        bool positional = false;
        for (auto m : item.modifiers) {
          switch (m) {
            case Modifier::contains:
              positional = true;
              for (auto& g : globs) {
                if (g.empty() || g.front().kind != Piece::Kind::star)
                  g.insert(g.begin(), {Piece::Kind::star, {}});
                if (g.back().kind != Piece::Kind::star) g.push_back({Piece::Kind::star, {}});
              }
              break;
            case Modifier::startswith:
              positional = true;
              for (auto& g : globs)
                if (g.empty() || g.back().kind != Piece::Kind::star)
                  g.push_back({Piece::Kind::star, {}});
              break;
            case Modifier::endswith:
              positional = true;
              for (auto& g : globs)
                if (g.empty() || g.front().kind != Piece::Kind::star)
                  g.insert(g.begin(), {Piece::Kind::star, {}});
              break;
            case Modifier::base64:
            case Modifier::base64offset: {
              std::vector<Glob> next;
              for (const auto& g : globs) {
                if (has_wildcards(g))
                  throw LowerProblem{"unsupported modifier",
                                     "'" + item.field + "': |" + to_string(m) +
                                         " of a value with wildcards (apply contains after it)"};
                const std::string text = literal_text(g);
                if (m == Modifier::base64) {
                  next.push_back(Glob{});
                  push_lit(next.back(), base64(text));
                } else {
                  for (auto& s : base64_offsets(text)) {
                    next.push_back(Glob{});
                    push_lit(next.back(), s);
                  }
                }
              }
              globs = std::move(next);
              break;
            }
            case Modifier::utf16le:
            case Modifier::utf16be:
            case Modifier::utf16:
              for (auto& g : globs) {
                bool first = true;
                for (auto& piece : g) {
                  if (piece.kind != Piece::Kind::lit) continue;
                  piece.text = utf16(piece.text, m == Modifier::utf16be);
                  if (m == Modifier::utf16 && first && &piece == &g.front())
                    piece.text = std::string("\xff\xfe", 2) + piece.text;
                  first = false;
                }
              }
              break;
            case Modifier::windash: {
              std::vector<Glob> next;
              for (const auto& g : globs) {
                bool too_many = false;
                auto ex = windash(g, too_many);
                if (too_many)
                  throw LowerProblem{"unsupported modifier", "'" + item.field +
                                                                 "': |windash expands '" + v.text +
                                                                 "' to too many variants"};
                for (auto& x : ex)
                  next.push_back(std::move(x));
              }
              globs = std::move(next);
              break;
            }
            default:
              break;
          }
        }
        if (item.field.empty() && !positional) {
          // Keywords search the text for the value (spec: "Keywords search").
          for (auto& g : globs) {
            if (g.empty() || g.front().kind != Piece::Kind::star)
              g.insert(g.begin(), {Piece::Kind::star, {}});
            if (g.back().kind != Piece::Kind::star) g.push_back({Piece::Kind::star, {}});
          }
        }
        for (const auto& g : globs) {
          alts.push_back(over_slots([&](std::uint32_t s) -> std::uint32_t {
            Leaf l;
            l.slot = s;
            bool stars_only = !g.empty();
            for (const auto& piece : g)
              if (piece.kind != Piece::Kind::star) stars_only = false;
            if (g.empty()) {
              l.kind = LeafKind::empty;
              return make_leaf(l, cx, inner_neg);
            }
            if (stars_only) {
              l.kind = LeafKind::exists;
              return make_leaf(l, cx, inner_neg);
            }
            const bool lead = g.front().kind == Piece::Kind::star;
            const bool trail = g.back().kind == Piece::Kind::star;
            const std::size_t lits = std::count_if(
                g.begin(), g.end(), [](const Piece& p) { return p.kind == Piece::Kind::lit; });
            const std::size_t ones = std::count_if(
                g.begin(), g.end(), [](const Piece& p) { return p.kind == Piece::Kind::one; });
            const std::size_t stars = g.size() - lits - ones;
            if (lits == 1 && ones == 0 &&
                stars == static_cast<std::size_t>(lead) + static_cast<std::size_t>(trail)) {
              Atom a;
              a.slot = s;
              a.literal = true;
              a.caseless = !cased;
              a.mode = lead && trail ? LiteralMode::contains
                       : lead        ? LiteralMode::suffix
                       : trail       ? LiteralMode::prefix
                                     : LiteralMode::equals;
              a.pattern = g[lead ? 1 : 0].text;
              l.kind = LeafKind::atom;
              l.atom = atom(std::move(a));
              return make_leaf(l, cx, inner_neg);
            }
            std::string re = lead ? "" : "^";
            for (std::size_t i = lead ? 1 : 0; i < g.size() - (trail ? 1 : 0); ++i) {
              const auto& piece = g[i];
              if (piece.kind == Piece::Kind::lit)
                re += regex_escape(piece.text);
              else if (piece.kind == Piece::Kind::star)
                re += ".*";
              else
                re += '.';
            }
            if (!trail) re += "\\z";
            unsigned flags = hs_flag::singlematch | hs_flag::dotall;
            if (!cased) flags |= hs_flag::caseless;
            return regex_leaf(re, flags, !cased, false, true, s, cx, inner_neg, true);
          }));
        }
      }
    }
    per_value.push_back(make_op(Node::Kind::or_, alts));
  }
  const std::uint32_t combined =
      make_op(item.has(Modifier::all) ? Node::Kind::and_ : Node::Kind::or_, per_value);
  return neq ? make_op(Node::Kind::not_, {combined}) : combined;
}

std::uint32_t Lowerer::lower_identifier(const SearchIdentifier& id, Context& cx, bool neg) {
  std::vector<std::uint32_t> alts;
  for (const auto& alt : id.alternatives) {
    std::vector<std::uint32_t> items;
    for (const auto& item : alt)
      items.push_back(lower_item(item, cx, neg));
    alts.push_back(make_op(Node::Kind::and_, items));
  }
  return make_op(Node::Kind::or_, alts);
}

std::uint32_t Lowerer::lower_condition(const ConditionNode& node,
                                       const std::vector<SearchIdentifier>& ids, Context& cx,
                                       bool neg) {
  using K = ConditionNode::Kind;
  switch (node.kind) {
    case K::and_:
    case K::or_: {
      std::vector<std::uint32_t> kids;
      for (const auto& c : node.children)
        kids.push_back(lower_condition(c, ids, cx, neg));
      return make_op(node.kind == K::and_ ? Node::Kind::and_ : Node::Kind::or_, kids);
    }
    case K::not_:
      return make_op(Node::Kind::not_, {lower_condition(node.children[0], ids, cx, !neg)});
    case K::ref:
      for (const auto& id : ids)
        if (id.name == node.name) return lower_identifier(id, cx, neg);
      throw LowerProblem{"invalid condition", "unknown identifier '" + node.name + "'"};
    case K::one_of:
    case K::all_of: {
      std::vector<std::uint32_t> kids;
      for (const auto& id : ids) {
        const bool selected = node.name == "them" ? id.name.empty() || id.name[0] != '_'
                                                  : identifier_matches(node.name, id.name);
        if (selected) kids.push_back(lower_identifier(id, cx, neg));
      }
      return make_op(node.kind == K::all_of ? Node::Kind::and_ : Node::Kind::or_, kids);
    }
  }
  return make_op(Node::Kind::or_, {});
}

bool Lowerer::add_rule(const SigmaRule& rule, const std::vector<const SigmaFilter*>& filters,
                       std::string& reason, std::string& message) {
  const std::size_t leaves0 = p_.leaves.size();
  const std::size_t nodes0 = p_.nodes.size();
  const std::size_t children0 = p_.children.size();
  Context cx;
  cx.logsource = mapping_.find(rule.logsource);
  if (!cx.logsource) {
    reason = "unknown logsource";
    message = "no mapping for logsource product='" + rule.logsource.product + "' category='" +
              rule.logsource.category + "' service='" + rule.logsource.service + "' in " +
              mapping_.path + " (add a `logsources` entry there to run it)";
    return false;
  }
  try {
    std::vector<std::uint32_t> body{lower_condition(rule.condition, rule.identifiers, cx, false)};
    for (const SigmaFilter* f : filters) {
      body.push_back(
          make_op(Node::Kind::not_, {lower_condition(f->condition, f->identifiers, cx, true)}));
    }
    const std::uint32_t body_root = make_op(Node::Kind::and_, body);
    std::uint32_t root = body_root;
    if (!cx.logsource->predicate.alternatives.empty()) {
      cx.in_predicate = true;
      const std::uint32_t pred = lower_identifier(cx.logsource->predicate, cx, false);
      root = make_op(Node::Kind::and_, {pred, body_root});
    }
    CompiledRule cr;
    cr.root = root;
    cr.body_root = body_root;
    cr.leaf_begin = static_cast<std::uint32_t>(leaves0);
    cr.leaf_end = static_cast<std::uint32_t>(p_.leaves.size());
    cr.info.id = rule.id;
    cr.info.title = rule.title;
    cr.info.level = rule.level;
    cr.info.status = rule.status;
    cr.info.description = rule.description;
    cr.info.tags = rule.tags;
    cr.info.path = rule.path;
    for (const auto& t : rule.tags) {
      if (t.size() > 8 && (t.compare(0, 8, "attack.t") == 0 || t.compare(0, 8, "attack.T") == 0)) {
        std::string tech = t.substr(7);
        for (auto& c : tech)
          c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        cr.info.attack_techniques.push_back(tech);
      }
    }
    p_.rules.push_back(std::move(cr));
    return true;
  } catch (const LowerProblem& problem) {
    p_.leaves.resize(leaves0);
    p_.nodes.resize(nodes0);
    p_.children.resize(children0);
    reason = problem.reason;
    message = problem.message;
    return false;
  }
}

}  // namespace sluice::rules::detail
