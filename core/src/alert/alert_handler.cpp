// SPDX-License-Identifier: Apache-2.0
/// `Alert` rendering and ids, and `AlertHandler`: suppression, deduplication, throttling and
/// fan-out to the sinks (see `sluice/alert/alert.hpp`).
#include <arpa/inet.h>

#include <fmt/format.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <unordered_map>

#include "sluice/alert/alert.hpp"
#include "sluice/correlate/engine.hpp"
#include "sluice/output/json_lines.hpp"

namespace sluice {

std::int64_t monotonic_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string_view Alert::field(std::string_view name) const {
  for (const auto& [k, v] : group)
    if (k == name) return v;
  return {};
}

void Alert::assign_id() {
  std::string basis = rule_id.empty() ? rule_title : rule_id;
  for (const auto& [k, v] : group) {
    basis += '\x1f';
    basis += k;
    basis += '=';
    basis += v;
  }
  basis += fmt::format("\x1f{}", first_ns);
  id = fmt::format("{:016x}", correlation_hash(basis, 0x616c657274ull));
}

std::string Alert::to_json() const {
  std::string out;
  out.reserve(512);
  out += "{\"@timestamp\":\"";
  append_rfc3339(out, last_ns);
  out += "\",\"alert.id\":";
  append_json_string(out, id);
  out += ",\"alert.kind\":";
  append_json_string(out, kind);
  out += ",\"rule.id\":";
  append_json_string(out, rule_id);
  out += ",\"rule.name\":";
  append_json_string(out, rule_title);
  if (!rule_name.empty()) {
    out += ",\"rule.ruleset_name\":";
    append_json_string(out, rule_name);
  }
  out += ",\"rule.level\":";
  append_json_string(out, severity);
  out += ",\"rule.tags\":[";
  for (std::size_t i = 0; i < tags.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, tags[i]);
  }
  out += ']';
  if (!correlation_type.empty()) {
    out += ",\"correlation.type\":";
    append_json_string(out, correlation_type);
  }
  out += ",\"correlation.group\":{";
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, group[i].first);
    out += ':';
    append_json_string(out, group[i].second);
  }
  out += "},\"event.start\":\"";
  append_rfc3339(out, first_ns);
  out += "\",\"event.end\":\"";
  append_rfc3339(out, last_ns);
  out += fmt::format("\",\"alert.count\":{}", count);
  // fmt prints the shortest form that reads back as the same double; a sum of finite numbers
  // can still overflow, and JSON has no infinity.
  if (has_value)
    out += std::isfinite(value) ? fmt::format(",\"alert.value\":{}", value)
                                : std::string(",\"alert.value\":null");
  out += ",\"alert.events\":[";
  for (std::size_t i = 0; i < refs.size(); ++i) {
    if (i) out += ',';
    refs[i].append_json(out);
  }
  out += ']';
  for (const auto& [name, json] : details) {
    out += ',';
    append_json_string(out, name);
    out += ':';
    out += json.empty() ? std::string_view("null") : std::string_view(json);
  }
  out += '}';
  return out;
}

namespace {

/// An IPv4 or IPv6 network.
struct Cidr {
  int family = 0;
  unsigned char bytes[16] = {};
  int prefix = 0;

  static bool parse(std::string_view text, Cidr& out) {
    const auto slash = text.find('/');
    const std::string addr(text.substr(0, slash));
    if (inet_pton(AF_INET, addr.c_str(), out.bytes) == 1) {
      out.family = 4;
      out.prefix = 32;
    } else if (inet_pton(AF_INET6, addr.c_str(), out.bytes) == 1) {
      out.family = 6;
      out.prefix = 128;
    } else {
      return false;
    }
    if (slash != std::string_view::npos) {
      const std::string p(text.substr(slash + 1));
      char* end = nullptr;
      const long n = std::strtol(p.c_str(), &end, 10);
      if (p.empty() || *end != '\0' || n < 0 || n > out.prefix) return false;
      out.prefix = static_cast<int>(n);
    }
    return true;
  }

  bool contains(std::string_view value) const {
    unsigned char b[16] = {};
    const std::string v(value);
    if (inet_pton(family == 4 ? AF_INET : AF_INET6, v.c_str(), b) != 1) return false;
    const int full = prefix / 8, rest = prefix % 8;
    if (std::memcmp(b, bytes, full) != 0) return false;
    if (rest == 0) return true;
    const unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
    return (b[full] & mask) == (bytes[full] & mask);
  }
};

struct Suppression {
  SuppressionConfig config;
  Cidr cidr;
  AlertPredicate predicate;
  /// What it removed; shared so `Suppression` stays movable, atomic for `stats()`.
  std::shared_ptr<std::atomic<std::uint64_t>> removed =
      std::make_shared<std::atomic<std::uint64_t>>(0);

  bool matches(const Alert& a) const {
    if (!config.rule.empty() && config.rule != "*" && config.rule != a.rule_id &&
        config.rule != a.rule_name && config.rule != a.rule_title)
      return false;
    if (predicate) return predicate(a);
    const auto v = a.field(config.field);
    if (!config.cidr.empty()) return !v.empty() && cidr.contains(v);
    return v == config.value && (!v.empty() || !config.value.empty());
  }
};

struct GroupState {
  std::int64_t last_sent_ns = std::numeric_limits<std::int64_t>::min();
  std::int64_t throttle_start_ns = std::numeric_limits<std::int64_t>::min();
  std::size_t throttle_count = 0;
};

}  // namespace

struct AlertHandler::Impl {
  AlertsConfig config;
  std::vector<std::unique_ptr<AlertSink>> sinks;
  std::vector<Suppression> suppressions;
  std::unordered_map<std::string, GroupState> groups;
  std::int64_t dedup_ns = 0;
  std::int64_t throttle_ns = 0;
  std::int64_t newest_ns = std::numeric_limits<std::int64_t>::min();
  std::size_t handled_since_prune = 0;
  std::atomic<std::uint64_t> received{0}, suppressed{0}, duplicates{0}, throttled{0}, sent{0},
      sink_errors{0};
  mutable std::mutex latency_mutex;  // guards `latencies` for stats() from other threads
  bool record = false;
  std::vector<std::int64_t> latencies;

  /// Per-(rule, group) state older than both windows can no longer decide anything: drop it
  /// so the map stays bounded by the alerts of one window.
  void prune() {
    const std::int64_t horizon = std::max(dedup_ns, throttle_ns);
    for (auto it = groups.begin(); it != groups.end();) {
      const std::int64_t last = std::max(it->second.last_sent_ns, it->second.throttle_start_ns);
      if (last < newest_ns - horizon)
        it = groups.erase(it);
      else
        ++it;
    }
  }
};

AlertHandler::AlertHandler() : impl_(std::make_unique<Impl>()) {}
AlertHandler::~AlertHandler() {
  flush();
}

Result<std::unique_ptr<AlertHandler>> AlertHandler::create(
    const AlertsConfig& config, std::vector<std::unique_ptr<AlertSink>> sinks,
    std::vector<AlertPredicate> predicates) {
  std::unique_ptr<AlertHandler> h(new AlertHandler());
  auto& d = *h->impl_;
  d.config = config;
  d.sinks = std::move(sinks);
  d.dedup_ns = static_cast<std::int64_t>(config.dedup_seconds * 1e9);
  d.throttle_ns = static_cast<std::int64_t>(config.throttle_seconds * 1e9);
  for (std::size_t i = 0; i < config.suppress.size(); ++i) {
    Suppression s;
    s.config = config.suppress[i];
    if (s.config.name.empty()) {
      s.config.name = !s.config.filter.empty() ? fmt::format("filter#{}", i + 1)
                      : !s.config.cidr.empty() ? s.config.field + " in " + s.config.cidr
                                               : s.config.field + "=" + s.config.value;
      if (!s.config.rule.empty()) s.config.name += " (" + s.config.rule + ")";
    }
    if (!s.config.cidr.empty() && !Cidr::parse(s.config.cidr, s.cidr))
      return Error{
          fmt::format("alerts.suppress (line {}): cidr '{}' is not an IPv4 or IPv6 network",
                      s.config.line, s.config.cidr)};
    if (!s.config.filter.empty()) {
      if (i >= predicates.size() || !predicates[i])
        return Error{
            fmt::format("alerts.suppress (line {}): filter was not compiled", s.config.line)};
      s.predicate = predicates[i];
    }
    d.suppressions.push_back(std::move(s));
  }
  return h;
}

bool AlertHandler::handle(const Alert& alert) {
  auto& d = *impl_;
  d.received.fetch_add(1, std::memory_order_relaxed);
  for (auto& s : d.suppressions) {
    if (s.matches(alert)) {
      s.removed->fetch_add(1, std::memory_order_relaxed);
      d.suppressed.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
  }
  d.newest_ns = std::max(d.newest_ns, alert.last_ns);
  if (d.dedup_ns > 0 || d.throttle_ns > 0) {
    std::string key = alert.rule_id.empty() ? alert.rule_title : alert.rule_id;
    for (const auto& [k, v] : alert.group) {
      key += '\x1f';
      key += v;
    }
    GroupState& g = d.groups[key];
    if (d.dedup_ns > 0 && g.last_sent_ns != std::numeric_limits<std::int64_t>::min() &&
        alert.last_ns >= g.last_sent_ns && alert.last_ns - g.last_sent_ns <= d.dedup_ns) {
      d.duplicates.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    if (d.throttle_ns > 0 && d.config.throttle_max > 0) {
      if (g.throttle_start_ns == std::numeric_limits<std::int64_t>::min() ||
          alert.last_ns - g.throttle_start_ns > d.throttle_ns) {
        g.throttle_start_ns = alert.last_ns;
        g.throttle_count = 0;
      }
      if (g.throttle_count >= d.config.throttle_max) {
        d.throttled.fetch_add(1, std::memory_order_relaxed);
        return false;
      }
      ++g.throttle_count;
    }
    g.last_sent_ns = alert.last_ns;
    if (++d.handled_since_prune >= 4096) {
      d.prune();
      d.handled_since_prune = 0;
    }
  }
  const std::string json = alert.to_json();
  for (auto& sink : d.sinks) {
    if (!sink->takes(alert)) continue;
    if (!sink->send(alert, json)) d.sink_errors.fetch_add(1, std::memory_order_relaxed);
  }
  d.sent.fetch_add(1, std::memory_order_relaxed);
  if (d.record && alert.detected_mono_ns != 0) {
    const auto now = monotonic_now_ns();
    std::lock_guard lock(d.latency_mutex);
    d.latencies.push_back(now - alert.detected_mono_ns);
  }
  return true;
}

void AlertHandler::flush() {
  for (auto& sink : impl_->sinks)
    if (!sink->flush()) impl_->sink_errors.fetch_add(1, std::memory_order_relaxed);
}

void AlertHandler::record_latencies(bool on) {
  impl_->record = on;
}

AlertStats AlertHandler::stats() const {
  const auto& d = *impl_;
  AlertStats st;
  st.received = d.received.load(std::memory_order_relaxed);
  st.suppressed = d.suppressed.load(std::memory_order_relaxed);
  st.duplicates = d.duplicates.load(std::memory_order_relaxed);
  st.throttled = d.throttled.load(std::memory_order_relaxed);
  st.sent = d.sent.load(std::memory_order_relaxed);
  st.sink_errors = d.sink_errors.load(std::memory_order_relaxed);
  for (const auto& s : d.sinks)
    st.sink_dropped += s->dropped();
  for (const auto& s : d.suppressions)
    st.by_suppression.emplace_back(s.config.name, s.removed->load(std::memory_order_relaxed));
  std::lock_guard lock(d.latency_mutex);
  st.latencies_ns = d.latencies;
  return st;
}

std::vector<std::string> AlertHandler::sink_descriptions() const {
  std::vector<std::string> out;
  for (const auto& s : impl_->sinks)
    out.push_back(s->describe());
  return out;
}

}  // namespace sluice
