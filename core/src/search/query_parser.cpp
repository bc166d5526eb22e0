// SPDX-License-Identifier: Apache-2.0
/// Recursive-descent parser for the query language described in query.hpp. Works on bytes with a
/// position; every error carries the 1-based column where the parser stood.
#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "sluice/search/query.hpp"

namespace sluice::search {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/// Bytes that end a WORD.
bool ends_word(char c) {
  return is_space(c) || c == '(' || c == ')' || c == '|' || c == '"';
}

bool is_field_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '@';
}

bool is_field_byte(char c) {
  return is_field_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

/// The length of a field name at the start of `s` followed by ':', or 0.
std::size_t field_prefix(std::string_view s) {
  if (s.empty() || !is_field_start(s[0])) return 0;
  std::size_t i = 1;
  while (i < s.size() && is_field_byte(s[i]))
    ++i;
  if (i < s.size() && s[i] == ':') return i;
  return 0;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  ParseResult run() {
    Query q;
    q.text = std::string(s_);
    skip_space();
    if (!at_end() && peek() != '|') {
      auto e = parse_or();
      if (!e) return fail();
      q.root = std::move(*e);
      if (!hoist_time_bounds(q)) return fail();
    }
    skip_space();
    while (!at_end()) {
      if (peek() != '|') return fail(pos_, describe_unexpected());
      const std::size_t pipe_at = pos_;
      ++pos_;
      if (q.aggregation.kind != Aggregation::Kind::none)
        return fail(pipe_at, "only one aggregation pipe is supported");
      if (!parse_pipe(q.aggregation)) return fail();
      skip_space();
    }
    ParseResult r;
    r.query = std::move(q);
    return r;
  }

 private:
  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return s_[pos_]; }
  void skip_space() {
    while (!at_end() && is_space(peek()))
      ++pos_;
  }

  ParseResult fail() {
    ParseResult r;
    r.error = error_;
    return r;
  }
  ParseResult fail(std::size_t at, std::string message) {
    set_error(at, std::move(message));
    return fail();
  }
  void set_error(std::size_t at, std::string message) {
    if (has_error_) return;
    has_error_ = true;
    error_.column = at + 1;
    error_.message = std::move(message);
  }

  std::string describe_unexpected() const {
    if (at_end()) return "unexpected end of query";
    if (peek() == ')') return "unmatched ')'";
    return std::string("unexpected '") + peek() + "'";
  }

  /// The WORD at the cursor (without consuming it).
  std::string_view word_at(std::size_t at) const {
    std::size_t end = at;
    while (end < s_.size() && !ends_word(s_[end]))
      ++end;
    return s_.substr(at, end - at);
  }

  bool keyword_next(std::string_view kw) const {
    if (at_end()) return false;
    return word_at(pos_) == kw;
  }

  std::optional<Expr> parse_or() {
    auto left = parse_and();
    if (!left) return std::nullopt;
    skip_space();
    if (!keyword_next("OR")) return left;
    Expr node;
    node.op = Expr::Op::or_;
    node.children.push_back(std::move(*left));
    while (keyword_next("OR")) {
      const std::size_t at = pos_;
      pos_ += 2;
      skip_space();
      if (at_end() || peek() == ')' || peek() == '|') {
        set_error(at, "OR needs an expression on its right");
        return std::nullopt;
      }
      auto right = parse_and();
      if (!right) return std::nullopt;
      node.children.push_back(std::move(*right));
      skip_space();
    }
    return node;
  }

  bool and_continues() {
    skip_space();
    if (at_end()) return false;
    const char c = peek();
    if (c == ')' || c == '|') return false;
    if (keyword_next("OR")) return false;
    return true;
  }

  std::optional<Expr> parse_and() {
    auto left = parse_unary();
    if (!left) return std::nullopt;
    if (!and_continues()) return left;
    Expr node;
    node.op = Expr::Op::and_;
    node.children.push_back(std::move(*left));
    while (and_continues()) {
      if (keyword_next("AND")) {
        const std::size_t at = pos_;
        pos_ += 3;
        skip_space();
        if (at_end() || peek() == ')' || peek() == '|' || keyword_next("OR")) {
          set_error(at, "AND needs an expression on its right");
          return std::nullopt;
        }
      }
      auto right = parse_unary();
      if (!right) return std::nullopt;
      node.children.push_back(std::move(*right));
    }
    return node;
  }

  std::optional<Expr> parse_unary() {
    skip_space();
    if (at_end()) {
      set_error(pos_, "expected a search term");
      return std::nullopt;
    }
    if (keyword_next("NOT")) {
      const std::size_t at = pos_;
      pos_ += 3;
      skip_space();
      if (at_end() || peek() == ')' || peek() == '|') {
        set_error(at, "NOT needs an expression after it");
        return std::nullopt;
      }
      auto inner = parse_unary();
      if (!inner) return std::nullopt;
      Expr node;
      node.op = Expr::Op::not_;
      node.children.push_back(std::move(*inner));
      return node;
    }
    if (keyword_next("AND") || keyword_next("OR")) {
      set_error(pos_, std::string(word_at(pos_)) + " needs an expression on its left");
      return std::nullopt;
    }
    const char c = peek();
    if (c == '(') {
      const std::size_t open = pos_;
      ++pos_;
      skip_space();
      if (!at_end() && peek() == ')') {
        set_error(open, "empty parentheses");
        return std::nullopt;
      }
      auto inner = parse_or();
      if (!inner) return std::nullopt;
      skip_space();
      if (at_end() || peek() != ')') {
        set_error(open, "'(' is never closed");
        return std::nullopt;
      }
      ++pos_;
      return inner;
    }
    if (c == ')') {
      set_error(pos_, "unmatched ')'");
      return std::nullopt;
    }
    if (c == '|') {
      set_error(pos_, "expected a search term before '|'");
      return std::nullopt;
    }
    return parse_term();
  }

  /// A phrase at the cursor (which is on the opening quote): its unescaped text.
  std::optional<std::string> parse_phrase() {
    const std::size_t open = pos_;
    ++pos_;
    std::string out;
    while (!at_end() && peek() != '"') {
      if (peek() == '\\' && pos_ + 1 < s_.size() && (s_[pos_ + 1] == '"' || s_[pos_ + 1] == '\\'))
        ++pos_;
      out += s_[pos_++];
    }
    if (at_end()) {
      set_error(open, "unterminated phrase: '\"' is never closed");
      return std::nullopt;
    }
    ++pos_;
    if (out.empty()) {
      set_error(open, "empty phrase");
      return std::nullopt;
    }
    return out;
  }

  /// A regex at the cursor (on the opening '/'): fills `t.value` and `t.caseless`.
  bool parse_regex(Term& t) {
    const std::size_t open = pos_;
    ++pos_;
    std::string out;
    while (!at_end() && peek() != '/') {
      if (peek() == '\\' && pos_ + 1 < s_.size()) {
        if (s_[pos_ + 1] == '/') {
          out += '/';
          pos_ += 2;
          continue;
        }
        out += s_[pos_++];
      }
      out += s_[pos_++];
    }
    if (at_end()) {
      set_error(open, "unterminated regex: '/' is never closed");
      return false;
    }
    ++pos_;
    if (out.empty()) {
      set_error(open, "empty regex");
      return false;
    }
    t.kind = TermKind::regex;
    t.value = std::move(out);
    t.caseless = false;
    while (!at_end() && !ends_word(peek())) {
      if (peek() == 'i') {
        t.caseless = true;
        ++pos_;
      } else {
        set_error(pos_, std::string("unknown regex flag '") + peek() + "' (only 'i')");
        return false;
      }
    }
    return true;
  }

  std::optional<Expr> parse_term() {
    Expr node;
    node.op = Expr::Op::term;
    Term& t = node.term;
    t.column = pos_ + 1;
    const char c = peek();
    if (c == '"') {
      auto phrase = parse_phrase();
      if (!phrase) return std::nullopt;
      t.kind = TermKind::text;
      t.value = std::move(*phrase);
      return node;
    }
    if (c == '/') {
      if (!parse_regex(t)) return std::nullopt;
      return node;
    }
    const std::string_view word = word_at(pos_);
    const std::size_t name_len = field_prefix(s_.substr(pos_));
    if (name_len > 0) {
      const std::string_view name = s_.substr(pos_, name_len);
      t.field = resolve_field(name);
      pos_ += name_len + 1;
      if (at_end() || is_space(peek()) || peek() == ')' || peek() == '|') {
        set_error(pos_ - 1, "field '" + std::string(name) + "' needs a value after ':'");
        return std::nullopt;
      }
      const std::size_t value_at = pos_;
      if (peek() == '"') {
        auto phrase = parse_phrase();
        if (!phrase) return std::nullopt;
        t.kind = TermKind::text;
        t.value = std::move(*phrase);
      } else if (peek() == '/') {
        if (!parse_regex(t)) return std::nullopt;
      } else {
        const std::string_view v = word_at(pos_);
        pos_ += v.size();
        t.value = std::string(v);
        t.kind =
            v.find_first_of("*?") != std::string_view::npos ? TermKind::wildcard : TermKind::text;
        if (t.kind == TermKind::text) {
          const bool is_ip_field = t.field->id == FieldId::source_ip;
          if (v.find('/') != std::string_view::npos || is_ip_field) {
            auto cidr = parse_cidr(v);
            if (cidr) {
              t.kind = TermKind::cidr;
              t.cidr = *cidr;
            } else if (v.find('/') != std::string_view::npos && is_ip_field) {
              set_error(value_at, "'" + std::string(v) + "' is not an address or CIDR range");
              return std::nullopt;
            }
          }
        }
      }
      return node;
    }
    for (std::string_view key : {std::string_view("earliest="), std::string_view("latest=")}) {
      if (word.substr(0, key.size()) != key) continue;
      if (!parse_time_ns(word.substr(key.size()), 0)) {
        set_error(pos_ + key.size(), "bad time (RFC 3339, -15m, -2h, -1d, now or @EPOCH_SECONDS)");
        return std::nullopt;
      }
      pos_ += word.size();
      node.op = Expr::Op::all;
      node.time_bound = true;
      t.value = std::string(word);
      return node;
    }
    pos_ += word.size();
    if (word == "*") {
      node.op = Expr::Op::all;
      return node;
    }
    t.value = std::string(word);
    t.kind =
        word.find_first_of("*?") != std::string_view::npos ? TermKind::wildcard : TermKind::text;
    return node;
  }

  /// Moves `earliest=`/`latest=` terms out of the tree into the query; false (with the error
  /// set) when one stands anywhere but the top level.
  bool hoist_time_bounds(Query& q) {
    auto take = [&](const Expr& e) {
      (e.term.value.rfind("earliest=", 0) == 0 ? q.earliest : q.latest) =
          e.term.value.substr(e.term.value.find('=') + 1);
    };
    if (q.root.time_bound) {
      take(q.root);
      q.root = Expr{};
      return true;
    }
    if (q.root.op == Expr::Op::and_) {
      std::vector<Expr> kept;
      for (auto& c : q.root.children) {
        if (c.time_bound) {
          take(c);
        } else {
          kept.push_back(std::move(c));
        }
      }
      if (kept.empty()) {
        q.root = Expr{};
      } else if (kept.size() == 1) {
        Expr only = std::move(kept[0]);
        q.root = std::move(only);
      } else {
        q.root.children = std::move(kept);
      }
    }
    return !misplaced_time_bound(q.root);
  }

  bool misplaced_time_bound(const Expr& e) {
    if (e.time_bound) {
      set_error(e.term.column - 1,
                "earliest=/latest= must stand at the top level (not inside (), OR or NOT)");
      return true;
    }
    for (const auto& c : e.children)
      if (misplaced_time_bound(c)) return true;
    return false;
  }

  bool parse_pipe(Aggregation& agg) {
    skip_space();
    if (at_end()) {
      set_error(pos_, "expected an aggregation after '|' (count, top, timechart)");
      return false;
    }
    const std::size_t at = pos_;
    const std::string_view verb = word_at(pos_);
    pos_ += verb.size();
    if (verb == "count") {
      skip_space();
      if (keyword_next("by")) {
        pos_ += 2;
        skip_space();
        if (!parse_field_name(agg)) return false;
        agg.kind = Aggregation::Kind::count_by;
      } else {
        agg.kind = Aggregation::Kind::count;
      }
      return true;
    }
    if (verb == "top") {
      skip_space();
      const std::size_t n_at = pos_;
      const std::string_view n = at_end() ? std::string_view{} : word_at(pos_);
      std::size_t value = 0;
      auto [ptr, ec] = std::from_chars(n.data(), n.data() + n.size(), value);
      if (n.empty() || ec != std::errc{} || ptr != n.data() + n.size() || value == 0) {
        set_error(n_at, "top needs a positive count, e.g. 'top 10 host'");
        return false;
      }
      pos_ += n.size();
      skip_space();
      if (!parse_field_name(agg)) return false;
      agg.kind = Aggregation::Kind::top;
      agg.top_n = value;
      return true;
    }
    if (verb == "timechart") {
      skip_space();
      const std::size_t arg_at = pos_;
      const std::string_view arg = at_end() ? std::string_view{} : word_at(pos_);
      constexpr std::string_view span_key = "span=";
      if (arg.substr(0, span_key.size()) != span_key) {
        set_error(arg_at, "timechart needs span=DURATION, e.g. 'timechart span=1h'");
        return false;
      }
      auto span = parse_duration_ns(arg.substr(span_key.size()));
      if (!span) {
        set_error(arg_at + span_key.size(), "bad duration (use e.g. 30s, 5m, 1h, 1d)");
        return false;
      }
      pos_ += arg.size();
      agg.kind = Aggregation::Kind::timechart;
      agg.span_ns = *span;
      return true;
    }
    set_error(at, "unknown aggregation '" + std::string(verb) + "' (count, top, timechart)");
    return false;
  }

  bool parse_field_name(Aggregation& agg) {
    const std::size_t at = pos_;
    const std::string_view name = at_end() ? std::string_view{} : word_at(pos_);
    bool valid = !name.empty() && is_field_start(name[0]);
    for (char ch : name)
      valid = valid && is_field_byte(ch);
    if (!valid) {
      set_error(at, "expected a field name");
      return false;
    }
    pos_ += name.size();
    agg.field = resolve_field(name);
    agg.field_name = std::string(name);
    return true;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  QueryError error_;
  bool has_error_ = false;
};

}  // namespace

bool Cidr::contains(std::string_view text) const {
  auto a = parse_cidr(text);
  if (!a || a->bits != (a->family == 4 ? 32u : 128u)) return false;
  const std::uint8_t* bytes = a->address.data();
  // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address for a v4 range.
  static constexpr std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (family == 4 && a->family == 6 && std::memcmp(bytes, mapped, 12) == 0) {
    bytes += 12;
  } else if (a->family != family) {
    return false;
  }
  const unsigned full = bits / 8;
  if (std::memcmp(bytes, address.data(), full) != 0) return false;
  const unsigned rest = bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (bytes[full] & mask) == (address[full] & mask);
}

std::optional<Cidr> parse_cidr(std::string_view text) {
  std::string_view addr = text;
  std::optional<unsigned> bits;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    const std::string_view b = text.substr(slash + 1);
    unsigned v = 0;
    auto [ptr, ec] = std::from_chars(b.data(), b.data() + b.size(), v);
    if (b.empty() || ec != std::errc{} || ptr != b.data() + b.size()) return std::nullopt;
    bits = v;
  }
  if (addr.empty() || addr.size() > 45) return std::nullopt;
  char buf[46];
  std::memcpy(buf, addr.data(), addr.size());
  buf[addr.size()] = '\0';
  Cidr c;
  if (::inet_pton(AF_INET, buf, c.address.data()) == 1) {
    c.family = 4;
    c.bits = bits.value_or(32);
    if (c.bits > 32) return std::nullopt;
  } else if (::inet_pton(AF_INET6, buf, c.address.data()) == 1) {
    c.family = 6;
    c.bits = bits.value_or(128);
    if (c.bits > 128) return std::nullopt;
  } else {
    return std::nullopt;
  }
  return c;
}

std::string format_query_error(std::string_view query, const QueryError& error) {
  std::string out = "error at column " + std::to_string(error.column) + ": " + error.message;
  out += "\n  ";
  // Tabs and newlines would shift the caret; show them as spaces.
  for (char c : query)
    out += (c == '\t' || c == '\n' || c == '\r') ? ' ' : c;
  out += "\n  ";
  const std::size_t col = std::min(error.column, query.size() + 1);
  out.append(col - 1, ' ');
  out += '^';
  return out;
}

ParseResult parse_query(std::string_view text) {
  return Parser(text).run();
}

std::optional<std::int64_t> parse_duration_ns(std::string_view text) {
  std::int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || value <= 0) return std::nullopt;
  const std::string_view unit(ptr, static_cast<std::size_t>(text.data() + text.size() - ptr));
  std::int64_t scale = 0;
  if (unit == "ms") {
    scale = 1'000'000;
  } else if (unit == "s") {
    scale = 1'000'000'000;
  } else if (unit == "m") {
    scale = 60'000'000'000;
  } else if (unit == "h") {
    scale = 3'600'000'000'000;
  } else if (unit == "d") {
    scale = 86'400'000'000'000;
  } else if (unit == "w") {
    scale = 7 * 86'400'000'000'000;
  } else {
    return std::nullopt;
  }
  if (value > INT64_MAX / scale) return std::nullopt;
  return value * scale;
}

namespace {

/// Days since 1970-01-01 of a civil date (H. Hinnant's `days_from_civil`).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool digits(std::string_view s, std::size_t at, std::size_t n, unsigned& out) {
  if (at + n > s.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + static_cast<unsigned>(s[i] - '0');
  }
  return true;
}

/// RFC 3339 §5.6 date-time (with the relaxations named on `parse_time_ns`).
std::optional<std::int64_t> parse_rfc3339(std::string_view s) {
  unsigned y, mo, d;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
  std::int64_t secs = days_from_civil(y, mo, d) * 86400;
  if (s.size() == 10) return secs * 1'000'000'000;
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return std::nullopt;
  unsigned h, mi, se = 0;
  if (!digits(s, 11, 2, h) || s.size() < 16 || s[13] != ':' || !digits(s, 14, 2, mi))
    return std::nullopt;
  std::size_t i = 16;
  if (i < s.size() && s[i] == ':') {
    if (!digits(s, 17, 2, se)) return std::nullopt;
    i = 19;
  }
  if (h > 23 || mi > 59 || se > 60) return std::nullopt;
  secs += h * 3600 + mi * 60 + se;
  std::int64_t frac_ns = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    std::int64_t scale = 100'000'000;
    const std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      frac_ns += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start) return std::nullopt;
  }
  if (i == s.size()) return secs * 1'000'000'000 + frac_ns;  // no offset: UTC
  if (s[i] == 'Z' || s[i] == 'z') {
    if (i + 1 != s.size()) return std::nullopt;
  } else if (s[i] == '+' || s[i] == '-') {
    unsigned oh, om;
    if (!digits(s, i + 1, 2, oh) || i + 3 >= s.size() || s[i + 3] != ':' ||
        !digits(s, i + 4, 2, om) || i + 6 != s.size())
      return std::nullopt;
    const std::int64_t off = (oh * 60 + om) * 60;
    secs += s[i] == '+' ? -off : off;
  } else {
    return std::nullopt;
  }
  return secs * 1'000'000'000 + frac_ns;
}

}  // namespace

std::optional<std::int64_t> parse_time_ns(std::string_view text, std::int64_t now_ns) {
  if (text == "now") return now_ns;
  if (!text.empty() && text[0] == '-') {
    auto d = parse_duration_ns(text.substr(1));
    if (!d) return std::nullopt;
    return now_ns - *d;
  }
  if (!text.empty() && text[0] == '@') {
    std::int64_t secs = 0;
    const std::string_view s = text.substr(1);
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), secs);
    if (s.empty() || ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
    if (secs > INT64_MAX / 1'000'000'000 || secs < INT64_MIN / 1'000'000'000) return std::nullopt;
    return secs * 1'000'000'000;
  }
  return parse_rfc3339(text);
}

}  // namespace sluice::search
