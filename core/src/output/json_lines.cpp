// SPDX-License-Identifier: Apache-2.0
#include "sluice/output/json_lines.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>

namespace sluice {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";

/// Length of the valid UTF-8 sequence starting at `p` (RFC 3629 §4), or 0 when invalid.
std::size_t utf8_sequence_length(const unsigned char* p, const unsigned char* end) {
  const unsigned char c = p[0];
  std::size_t n;
  std::uint32_t cp;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (static_cast<std::size_t>(end - p) < n) return 0;
  for (std::size_t i = 1; i < n; ++i) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  // Reject overlong forms, surrogates and values past U+10FFFF.
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

void append_escaped_byte(std::string& out, unsigned char c) {
  out += "\\u00";
  out += hex_digits[c >> 4];
  out += hex_digits[c & 0xF];
}

void append_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void append_key(std::string& out, std::string_view key, bool& first) {
  if (!first) out += ',';
  first = false;
  out += '"';
  out += key;
  out += "\":";
}

void append_string_member(std::string& out, std::string_view key, std::string_view value,
                          bool& first) {
  if (value.empty()) return;
  append_key(out, key, first);
  append_json_string(out, value);
}

/// `process.pid` is numeric in ECS; a PROCID that is not a plain number stays a string.
void append_pid(std::string& out, std::string_view procid, bool& first) {
  if (procid.empty()) return;
  std::uint64_t pid = 0;
  auto [ptr, ec] = std::from_chars(procid.data(), procid.data() + procid.size(), pid);
  append_key(out, "process.pid", first);
  if (ec == std::errc{} && ptr == procid.data() + procid.size()) {
    append_uint(out, pid);
  } else {
    append_json_string(out, procid);
  }
}

/// Civil date from days since 1970-01-01 (H. Hinnant's `civil_from_days`).
void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += (m <= 2);
}

void append_2(std::string& out, unsigned v) {
  out += static_cast<char>('0' + v / 10);
  out += static_cast<char>('0' + v % 10);
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    // Copy runs of plain ASCII at once, testing eight bytes per step (SWAR): a byte needs
    // attention when it is a control character, '"', '\\' or not ASCII.
    const auto* run = p;
    while (end - p >= 8) {
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      constexpr std::uint64_t ones = 0x0101010101010101ULL;
      constexpr std::uint64_t highs = 0x8080808080808080ULL;
      const auto has_zero = [](std::uint64_t x) { return (x - ones) & ~x & highs; };
      // (w - 0x20..) & ~w flags bytes below 0x20; `| w` flags bytes with the high bit set.
      const std::uint64_t special =
          ((w - ones * 0x20) & ~w) | has_zero(w ^ (ones * '"')) | has_zero(w ^ (ones * '\\')) | w;
      if ((special & highs) != 0) break;
      p += 8;
    }
    while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
      ++p;
    out.append(reinterpret_cast<const char*>(run), static_cast<std::size_t>(p - run));
    if (p == end) break;
    const unsigned char c = *p;
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++p;
    } else if (c < 0x20) {
      switch (c) {
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          append_escaped_byte(out, c);
      }
      ++p;
    } else {
      const std::size_t n = utf8_sequence_length(p, end);
      if (n == 0) {
        append_escaped_byte(out, c);
        ++p;
      } else {
        out.append(reinterpret_cast<const char*>(p), n);
        p += n;
      }
    }
  }
  out += '"';
}

void append_rfc3339(std::string& out, std::int64_t ns) {
  std::int64_t secs = ns / 1'000'000'000;
  std::int64_t frac = ns % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  // Consecutive events mostly share their second, so each thread keeps the text of the last
  // second it formatted ("2026-11-28T06:55:46") and reuses it.
  thread_local std::int64_t cached_secs = std::numeric_limits<std::int64_t>::min();
  thread_local char cached[32];
  thread_local std::size_t cached_len = 0;
  if (secs != cached_secs) {
    std::string text;
    std::int64_t days = secs / 86400;
    std::int64_t rem = secs % 86400;
    if (rem < 0) {
      rem += 86400;
      --days;
    }
    std::int64_t y;
    unsigned m, d;
    civil_from_days(days, y, m, d);
    char ybuf[24];
    auto [yend, ec] = std::to_chars(ybuf, ybuf + sizeof ybuf, y);
    for (auto len = yend - ybuf; len < 4; ++len)
      text += '0';
    text.append(ybuf, yend);
    text += '-';
    append_2(text, m);
    text += '-';
    append_2(text, d);
    text += 'T';
    append_2(text, static_cast<unsigned>(rem / 3600));
    text += ':';
    append_2(text, static_cast<unsigned>(rem / 60 % 60));
    text += ':';
    append_2(text, static_cast<unsigned>(rem % 60));
    cached_len = std::min(text.size(), sizeof cached);
    std::memcpy(cached, text.data(), cached_len);
    cached_secs = secs;
  }
  out.append(cached, cached_len);
  if (frac != 0) {
    int digits = 9;
    auto f = frac;
    if (f % 1'000'000 == 0) {
      digits = 3;
      f /= 1'000'000;
    } else if (f % 1000 == 0) {
      digits = 6;
      f /= 1000;
    }
    char fbuf[10];
    for (int i = digits - 1; i >= 0; --i) {
      fbuf[i] = static_cast<char>('0' + f % 10);
      f /= 10;
    }
    out += '.';
    out.append(fbuf, static_cast<std::size_t>(digits));
  }
  out += 'Z';
}

namespace {

void append_time_member(std::string& out, std::string_view key, std::int64_t ns, bool& first) {
  append_key(out, key, first);
  out += '"';
  append_rfc3339(out, ns);
  out += '"';
}

/// The members an event line and an alert line share: time, origin and header fields.
void append_event_members(std::string& out, const Event& e, std::string_view source_path,
                          bool& first) {
  append_time_member(out, "@timestamp", e.event_time_ns, first);
  append_string_member(out, "host.name", e.host, first);
  append_string_member(out, "process.name", e.app, first);
  append_pid(out, e.procid, first);
  if (e.peer.family != 0) {
    append_key(out, "source.ip", first);
    char address[INET6_ADDRSTRLEN];
    append_json_string(out, std::string_view(address, e.peer.format_address(address)));
    append_key(out, "source.port", first);
    append_uint(out, e.peer.port);
  }
  if (!source_path.empty()) {
    append_string_member(out, "log.file.path", source_path, first);
    append_key(out, "log.file.line", first);
    append_uint(out, e.line);
  }
}

}  // namespace

void append_event_json(std::string& out, const Event& e, std::string_view source_path) {
  bool first = true;
  out += '{';
  append_event_members(out, e, source_path, first);
  append_time_member(out, "event.created", e.receive_time_ns, first);
  if (e.facility != no_facility) {
    append_key(out, "log.syslog.facility.code", first);
    append_uint(out, e.facility);
  }
  if (e.severity != no_severity) {
    append_key(out, "log.syslog.severity.code", first);
    append_uint(out, e.severity);
  }
  append_string_member(out, "log.syslog.msgid", e.msgid, first);
  append_string_member(out, "log.syslog.structured_data", e.structured_data, first);
  append_string_member(out, "message", e.message, first);
  append_key(out, "sluice.format", first);
  append_json_string(out, to_string(e.format));
  if (e.template_id != 0) {
    append_key(out, "sluice.template_id", first);
    append_uint(out, e.template_id);
  }
  if (e.status == ParseStatus::unparsed) {
    append_key(out, "sluice.unparsed_reason", first);
    append_json_string(out, to_string(e.reason));
    append_key(out, "event.original", first);
    append_json_string(out, e.raw);
  }
  if ((e.flags & event_flag_truncated) != 0) {
    append_key(out, "sluice.truncated", first);
    out += "true";
  }
  if ((e.flags & event_flag_fields_dropped) != 0) {
    append_key(out, "sluice.fields_dropped", first);
    out += "true";
  }
  if (!e.fields.empty()) {
    append_key(out, "sluice.fields", first);
    out += '{';
    bool inner_first = true;
    for (const auto& f : e.fields) {
      if (!inner_first) out += ',';
      inner_first = false;
      append_json_string(out, f.name);
      out += ':';
      append_json_string(out, f.value);
    }
    out += '}';
  }
  out += '}';
}

namespace {

void append_alert_json(std::string& out, const Event& e, std::string_view source_path,
                       const Detection& d, const RuleSet* rules) {
  bool first = true;
  out += '{';
  append_event_members(out, e, source_path, first);
  if (rules != nullptr && d.rule_index < rules->rule_count()) {
    const RuleInfo& r = rules->rule(d.rule_index);
    append_string_member(out, "rule.id", r.id, first);
    append_string_member(out, "rule.name", r.title, first);
    append_string_member(out, "rule.level", r.level, first);
    append_string_member(out, "rule.status", r.status, first);
    append_string_member(out, "rule.description", r.description, first);
    append_string_member(out, "rule.ruleset", r.path, first);
    if (!r.tags.empty()) {
      append_key(out, "rule.tags", first);
      out += '[';
      for (std::size_t i = 0; i < r.tags.size(); ++i) {
        if (i != 0) out += ',';
        append_json_string(out, r.tags[i]);
      }
      out += ']';
    }
    if (!r.attack_techniques.empty()) {
      append_key(out, "threat.technique.id", first);
      out += '[';
      for (std::size_t i = 0; i < r.attack_techniques.size(); ++i) {
        if (i != 0) out += ',';
        append_json_string(out, r.attack_techniques[i]);
      }
      out += ']';
    }
  }
  if (!d.matched.empty()) {
    append_key(out, "sluice.matched", first);
    out += '[';
    for (std::size_t i = 0; i < d.matched.size(); ++i) {
      if (i != 0) out += ',';
      out += "{\"field\":";
      append_json_string(out, d.matched[i].name);
      out += ",\"value\":";
      append_json_string(out, d.matched[i].value);
      out += '}';
    }
    out += ']';
  }
  append_string_member(out, "message", e.message.empty() ? e.raw : e.message, first);
  out += '}';
}

}  // namespace

Result<std::unique_ptr<JsonLinesOutput>> JsonLinesOutput::open(JsonLinesKind kind,
                                                               const std::string& path) {
  if (path == "-") {
    return std::unique_ptr<JsonLinesOutput>(new JsonLinesOutput(kind, path, STDOUT_FILENO, false));
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Error::from_errno("cannot open output file " + path);
  return std::unique_ptr<JsonLinesOutput>(new JsonLinesOutput(kind, path, fd, true));
}

JsonLinesOutput::JsonLinesOutput(JsonLinesKind kind, std::string path, int fd, bool owns_fd)
    : kind_(kind), path_(std::move(path)), fd_(fd), owns_fd_(owns_fd) {}

JsonLinesOutput::~JsonLinesOutput() {
  (void)flush();
  if (owns_fd_) ::close(fd_);
}

std::string JsonLinesOutput::describe() const {
  return std::string(kind_ == JsonLinesKind::events ? "events" : "alerts") + ":" +
         (path_ == "-" ? std::string("stdout") : path_);
}

std::size_t JsonLinesOutput::render(const EventBatch& batch, std::span<const Detection> detections,
                                    const RuleSet* rules, std::string& out) const {
  const auto& events = batch.events();
  if (kind_ == JsonLinesKind::events) {
    // One reservation per batch instead of a chain of doublings. The estimate (twice the raw
    // line plus room for the fixed keys) only sizes the buffer; a longer line still fits.
    std::size_t raw_bytes = 0;
    for (const auto& e : events)
      raw_bytes += e.raw.size();
    out.reserve(out.size() + raw_bytes * 2 + events.size() * 320);
    for (const auto& e : events) {
      append_event_json(out, e, batch.source_path());
      out += '\n';
    }
    return events.size();
  }
  for (const auto& d : detections) {
    append_alert_json(out, events[d.event_index], batch.source_path(), d, rules);
    out += '\n';
  }
  return detections.size();
}

Result<void> JsonLinesOutput::write(std::string_view bytes) {
  // Large buffers amortise write(2); 1 MiB keeps memory small and syscalls rare.
  constexpr std::size_t flush_threshold_bytes = 1 << 20;
  buffer_.append(bytes);
  if (buffer_.size() >= flush_threshold_bytes) return flush();
  return {};
}

Result<void> JsonLinesOutput::flush() {
  std::size_t done = 0;
  while (done < buffer_.size()) {
    const auto n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      buffer_.clear();
      return Error::from_errno("cannot write to " + path_, err);
    }
    done += static_cast<std::size_t>(n);
  }
  buffer_.clear();
  return {};
}

}  // namespace sluice
