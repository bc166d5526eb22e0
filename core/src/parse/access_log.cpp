// SPDX-License-Identifier: Apache-2.0
#include "sluice/parse/access_log.hpp"

#include <array>

#include "sluice/parse/timestamp.hpp"

namespace sluice {
namespace {

/// A token up to the next space (or the end).
bool take_token(std::string_view& s, std::string_view& out) {
  const auto sp = s.find(' ');
  if (sp == 0) return false;
  out = s.substr(0, sp);
  s = sp == std::string_view::npos ? std::string_view{} : s.substr(sp + 1);
  return true;
}

/// A double-quoted part, backslash escapes skipped over; `s` must start with '"'.
bool take_quoted(std::string_view& s, std::string_view& out) {
  if (s.empty() || s[0] != '"') return false;
  std::size_t i = 1;
  while (i < s.size() && s[i] != '"')
    i += (s[i] == '\\' && i + 1 < s.size()) ? 2 : 1;
  if (i >= s.size()) return false;
  out = s.substr(1, i - 1);
  s.remove_prefix(i + 1);
  if (!s.empty() && s[0] == ' ') s.remove_prefix(1);
  return true;
}

bool two_digits(std::string_view s, std::size_t at, unsigned& out) {
  if (at + 2 > s.size() || s[at] < '0' || s[at] > '9' || s[at + 1] < '0' || s[at + 1] > '9')
    return false;
  out = static_cast<unsigned>((s[at] - '0') * 10 + (s[at + 1] - '0'));
  return true;
}

/// `10/Oct/2000:13:55:36 -0700` (the `%t` format, Apache mod_log_config).
bool parse_clf_time(std::string_view t, std::int64_t& ns) {
  static constexpr std::array<std::string_view, 12> months = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (t.size() < 26 || t[2] != '/' || t[6] != '/' || t[11] != ':' || t[14] != ':' || t[17] != ':' ||
      t[20] != ' ')
    return false;
  unsigned day, hour, minute, second, oh, om;
  if (!two_digits(t, 0, day) || !two_digits(t, 12, hour) || !two_digits(t, 15, minute) ||
      !two_digits(t, 18, second))
    return false;
  unsigned month = 0;
  for (unsigned m = 0; m < 12; ++m)
    if (t.substr(3, 3) == months[m]) month = m + 1;
  if (month == 0) return false;
  std::int64_t year = 0;
  for (std::size_t i = 7; i < 11; ++i) {
    if (t[i] < '0' || t[i] > '9') return false;
    year = year * 10 + (t[i] - '0');
  }
  const char sign = t[21];
  if ((sign != '+' && sign != '-') || !two_digits(t, 22, oh) || !two_digits(t, 24, om))
    return false;
  if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60 || oh > 23 || om > 59)
    return false;
  const std::int64_t offset_s =
      (sign == '-' ? -1 : 1) * static_cast<std::int64_t>(oh * 3600 + om * 60);
  const std::int64_t secs =
      days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  ns = secs * ns_per_second;
  return true;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

void push_unless_dash(FieldScratch& fields, std::string_view name, std::string_view value) {
  if (!value.empty() && value != "-") fields.push(name, value);
}

}  // namespace

bool extract_access_log(std::string_view text, FieldScratch& fields, std::int64_t& time_ns) {
  std::string_view s = text;
  // Some shippers wrap the whole line in one more pair of quotes: `"1.2.3.4 - - [...] ..."`.
  if (s.size() > 2 && s.front() == '"' && s.back() == '"' && s[1] != '"') {
    s.remove_prefix(1);
    s.remove_suffix(1);
  }
  std::string_view host, ident, user, time_text, request, status, bytes;
  if (!take_token(s, host) || !take_token(s, ident) || !take_token(s, user)) return false;
  if (s.empty() || s[0] != '[') return false;
  const auto close = s.find(']');
  if (close == std::string_view::npos) return false;
  time_text = s.substr(1, close - 1);
  s.remove_prefix(close + 1);
  if (s.empty() || s[0] != ' ') return false;
  s.remove_prefix(1);
  std::int64_t ns = 0;
  if (!parse_clf_time(time_text, ns)) return false;
  if (!take_quoted(s, request)) return false;
  if (!take_token(s, status) || !all_digits(status) || status.size() != 3) return false;
  take_token(s, bytes);
  if (!bytes.empty() && bytes != "-" && !all_digits(bytes)) return false;
  std::string_view referrer, agent;
  if (take_quoted(s, referrer)) take_quoted(s, agent);

  push_unless_dash(fields, "source.ip", host);
  push_unless_dash(fields, "user.name", user);
  // "%r" is `METHOD URI PROTOCOL`; a malformed request line keeps only what it has.
  std::string_view r = request, method, uri, version;
  if (take_token(r, method)) {
    push_unless_dash(fields, "http.request.method", method);
    const auto last_space = r.rfind(' ');
    if (last_space != std::string_view::npos && r.substr(last_space + 1).starts_with("HTTP/")) {
      uri = r.substr(0, last_space);
      version = r.substr(last_space + 6);
    } else {
      uri = r;
    }
    if (!uri.empty()) {
      fields.push("url.original", uri);
      const auto q = uri.find('?');
      fields.push("url.path", uri.substr(0, q));
      if (q != std::string_view::npos) fields.push("url.query", uri.substr(q + 1));
    }
    push_unless_dash(fields, "http.version", version);
  }
  fields.push("http.response.status_code", status);
  push_unless_dash(fields, "http.response.body.bytes", bytes);
  push_unless_dash(fields, "http.request.referrer", referrer);
  push_unless_dash(fields, "user_agent.original", agent);
  time_ns = ns;
  return true;
}

}  // namespace sluice
