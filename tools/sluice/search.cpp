// SPDX-License-Identifier: Apache-2.0
/// `sluice search --store DIR QUERY`: runs a query (search/query.hpp) over the event store and
/// prints matching events in event-time order, or the query's aggregation.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "commands.hpp"
#include "search_output.hpp"
#include "sluice/output/json_lines.hpp"
#include "sluice/search/alerts.hpp"

namespace sluice::cli {
namespace {

constexpr const char* search_usage =
    "usage: sluice search --store DIR [options] QUERY\n"
    "\n"
    "QUERY: free text and \"phrases\" (case-insensitive, whole words, like grep -iwF), field\n"
    "terms (host:web01, process.name:sshd, source.ip:10.0.0.0/8, user:root), wildcards (fail*),\n"
    "regexes (/inv.lid user/, /x/i), AND OR NOT ( ), and one pipe: | count, | count by FIELD,\n"
    "| top N FIELD, | timechart span=1h. earliest=T latest=T in the query act as --from/--to.\n"
    "\n"
    "options:\n"
    "  --store DIR       the event store folder (required)\n"
    "  --from T          only events at or after T: RFC 3339, -15m/-2h/-1d, now, @EPOCH_SECONDS\n"
    "  --to T            only events before T (same forms)\n"
    "  --limit N         print at most N events (the oldest N)\n"
    "  --format F        json (default: ECS JSON lines) or text (TIME RAW)\n"
    "  --progress        progress on stderr (default when stderr is a terminal)\n"
    "  --no-progress     never show progress\n"
    "  --alerts          list the stored alerts that match QUERY instead of events (an alert is\n"
    "                    searched as its title, rule id, level and ATT&CK ids, with the fields\n"
    "                    rule.id, rule.name, rule.level, threat.technique.id and those matched)\n"
    "  --stats           counters as one JSON object, the last line on stderr\n"
    "\n"
    "exit status: 0 ok, 1 the store or some of its segments could not be read (the rest was\n"
    "searched), 2 bad usage or query.\n";

}  // namespace

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void append_event_text(std::string& out, const StoredEvent& event) {
  append_rfc3339(out, event.event.event_time_ns);
  out += ' ';
  out += event.event.raw;
}

namespace {

void print_stats(const search::SearchStats& s) {
  std::fprintf(
      stderr,
      "{\"segments\":%llu,\"segments_skipped\":%llu,\"units\":%llu,\"units_pruned_time\":%llu,"
      "\"units_pruned_index\":%llu,\"units_fast\":%llu,\"events_scanned\":%llu,"
      "\"events_matched\":%llu,\"segment_errors\":%zu}\n",
      static_cast<unsigned long long>(s.segments),
      static_cast<unsigned long long>(s.segments_skipped), static_cast<unsigned long long>(s.units),
      static_cast<unsigned long long>(s.units_pruned_time),
      static_cast<unsigned long long>(s.units_pruned_index),
      static_cast<unsigned long long>(s.units_fast),
      static_cast<unsigned long long>(s.events_scanned),
      static_cast<unsigned long long>(s.events_matched), s.errors.size());
}

/// Buffered stdout: one write per few hundred KiB.
class Out {
 public:
  ~Out() { flush(); }
  std::string& buf() { return buf_; }
  void maybe_flush() {
    if (buf_.size() >= (256u << 10)) flush();
  }
  void flush() {
    if (!buf_.empty()) std::fwrite(buf_.data(), 1, buf_.size(), stdout);
    std::fflush(stdout);
    buf_.clear();
  }

 private:
  std::string buf_;
};

/// An alert as a JSON line (ECS names as in the alert output) or as one text line for people.
void append_alert(std::string& b, const search::AlertRecord& a, SearchFormat format,
                  std::string_view indent) {
  if (format == SearchFormat::json) {
    b += "{\"@timestamp\":\"";
    append_rfc3339(b, a.time_ns);
    b += "\",\"event.kind\":\"alert\",\"rule.id\":";
    append_json_string(b, a.rule_id);
    b += ",\"rule.name\":";
    append_json_string(b, a.title);
    b += ",\"rule.level\":";
    append_json_string(b, a.level);
    b += ",\"threat.technique.id\":[";
    for (std::size_t i = 0; i < a.techniques.size(); ++i) {
      if (i != 0) b += ',';
      append_json_string(b, a.techniques[i]);
    }
    b += "],\"sluice.matched\":[";
    for (std::size_t i = 0; i < a.matched.size(); ++i) {
      if (i != 0) b += ',';
      b += "{\"field\":";
      append_json_string(b, a.matched[i].first);
      b += ",\"value\":";
      append_json_string(b, a.matched[i].second);
      b += '}';
    }
    b += "],\"sluice.event_sequences\":[";
    for (std::size_t i = 0; i < a.event_sequences.size(); ++i) {
      if (i != 0) b += ',';
      b += std::to_string(a.event_sequences[i]);
    }
    b += "],\"alert.kind\":";
    append_json_string(b, a.kind);
    if (!a.id.empty()) {
      b += ",\"alert.id\":";
      append_json_string(b, a.id);
    }
    if (!a.rule_name.empty()) {
      b += ",\"rule.ruleset_name\":";
      append_json_string(b, a.rule_name);
    }
    if (!a.correlation_type.empty()) {
      b += ",\"correlation.type\":";
      append_json_string(b, a.correlation_type);
    }
    b += ",\"event.start\":\"";
    append_rfc3339(b, a.time_ns);
    b += "\",\"event.end\":\"";
    append_rfc3339(b, a.last_ns);
    b += "\",\"alert.count\":" + std::to_string(a.count);
    for (const auto& [name, json] : a.details) {
      b += ',';
      append_json_string(b, name);
      b += ':';
      b += json.empty() ? std::string_view("null") : std::string_view(json);
    }
    b += "}\n";
    return;
  }
  b += indent;
  append_rfc3339(b, a.time_ns);
  b += a.kind == "detection" ? " ALERT [" : " ALERT " + a.kind + " [";
  b += a.level;
  b += "] ";
  b += a.title;
  b += " (";
  b += a.rule_id;
  b += ')';
  for (const auto& t : a.techniques) {
    b += ' ';
    b += t;
  }
  for (const auto& [k, v] : a.matched) {
    b += ' ';
    b += k;
    b += '=';
    b += v;
  }
  if (a.kind != "detection") {
    b += " count=" + std::to_string(a.count) + " until ";
    append_rfc3339(b, a.last_ns);
    for (const auto& [k, v] : a.details)
      if (k == "sluice.anomaly.score" || k == "sluice.anomaly.spe_threshold")
        b += ' ' + k.substr(k.rfind('.') + 1) + '=' + v;
  }
  b += " events:";
  if (a.event_sequences.empty()) b += " none";
  for (std::size_t i = 0; i < a.event_sequences.size(); ++i)
    b += (i == 0 ? " #" : ", #") + std::to_string(a.event_sequences[i]);
  b += '\n';
}

void write_aggregate(const search::AggregateResult& r, const search::Query& q, SearchFormat format,
                     Out& out) {
  using Kind = search::Aggregation::Kind;
  std::string& b = out.buf();
  const std::string& field = q.aggregation.field_name;
  if (r.kind == Kind::count) {
    if (format == SearchFormat::json) {
      b += "{\"count\":" + std::to_string(r.count) + "}\n";
    } else {
      b += std::to_string(r.count) + "\n";
    }
    return;
  }
  const bool timechart = r.kind == Kind::timechart;
  if (format == SearchFormat::text)
    b += "count\t" + (timechart ? std::string("time") : field) + "\n";
  for (const auto& row : r.rows) {
    if (format == SearchFormat::json) {
      b += '{';
      append_json_string(b, timechart ? std::string_view("@timestamp") : std::string_view(field));
      b += ':';
      append_json_string(b, row.key);
      b += ",\"count\":" + std::to_string(row.count) + "}\n";
    } else {
      b += std::to_string(row.count) + "\t" + row.key + "\n";
    }
    out.maybe_flush();
  }
}

/// The values an alert has for `field` (the names `alerts.hpp` gives an alert's fields).
std::vector<std::string_view> alert_values(const search::AlertRecord& a, std::string_view field) {
  std::vector<std::string_view> values;
  if (field == "rule.id") {
    values.push_back(a.rule_id);
  } else if (field == "rule.name" || field == "rule.title") {
    values.push_back(a.title);
  } else if (field == "rule.level") {
    values.push_back(a.level);
  } else if (field == "threat.technique.id") {
    for (const auto& t : a.techniques)
      values.push_back(t);
  } else if (field == "alert.kind") {
    values.push_back(a.kind);
  } else if (field == "alert.id") {
    if (!a.id.empty()) values.push_back(a.id);
  } else if (field == "rule.ruleset_name") {
    if (!a.rule_name.empty()) values.push_back(a.rule_name);
  } else {
    for (const auto& [name, value] : a.matched)
      if (name == field) values.push_back(value);
    for (const auto& [name, value] : a.details)
      if (name == field) values.push_back(value);
  }
  return values;
}

/// The query's aggregation over matching alerts: the same kinds and row order as over events.
search::AggregateResult aggregate_alerts(const std::vector<search::AlertRecord>& alerts,
                                         const search::Aggregation& agg) {
  using Kind = search::Aggregation::Kind;
  search::AggregateResult r;
  r.kind = agg.kind == Kind::none ? Kind::count : agg.kind;
  r.count = alerts.size();
  if (r.kind == Kind::count) return r;
  std::unordered_map<std::string, std::uint64_t> counts;
  std::map<std::int64_t, std::uint64_t> buckets;
  for (const auto& a : alerts) {
    if (r.kind == Kind::timechart) {
      const std::int64_t span = agg.span_ns;
      std::int64_t start = a.time_ns / span * span;
      if (a.time_ns < 0 && start != a.time_ns) start -= span;
      ++buckets[start];
    } else {
      for (auto v : alert_values(a, agg.field_name))
        ++counts[std::string(v)];
    }
  }
  if (r.kind == Kind::timechart) {
    // Empty buckets between the first and the last are listed, as for events (unless there would
    // be more than a million rows; then only the buckets that hold alerts).
    std::vector<std::int64_t> keys;
    if (!buckets.empty()) {
      const std::int64_t lo = buckets.begin()->first, hi = buckets.rbegin()->first;
      if ((hi - lo) / agg.span_ns < 1'000'000) {
        for (std::int64_t t = lo; t <= hi; t += agg.span_ns)
          keys.push_back(t);
      } else {
        for (const auto& [t, n] : buckets)
          keys.push_back(t);
      }
    }
    for (const std::int64_t t : keys) {
      const auto it = buckets.find(t);
      search::AggregateRow row;
      row.bucket_ns = t;
      append_rfc3339(row.key, t);
      row.count = it == buckets.end() ? 0 : it->second;
      r.rows.push_back(std::move(row));
    }
    return r;
  }
  for (auto& [key, count] : counts)
    r.rows.push_back({key, count, 0});
  std::sort(r.rows.begin(), r.rows.end(), [](const auto& x, const auto& y) {
    return x.count != y.count ? x.count > y.count : x.key < y.key;
  });
  if (r.kind == Kind::top && r.rows.size() > agg.top_n) r.rows.resize(agg.top_n);
  return r;
}

}  // namespace

int execute_search(const SearchRun& run) {
  const char* cmd = run.command.c_str();
  auto parsed = search::parse_query(run.query);
  if (!parsed.query) {
    std::fprintf(stderr, "sluice %s: %s\n", cmd,
                 search::format_query_error(run.query, parsed.error).c_str());
    return 2;
  }
  search::QueryError compile_error;
  auto compiled = search::CompiledQuery::compile(*parsed.query, compile_error);
  if (!compiled) {
    std::fprintf(stderr, "sluice %s: %s\n", cmd,
                 search::format_query_error(run.query, compile_error).c_str());
    return 2;
  }
  search::SearchOptions options = run.options;
  // earliest=/latest= in the query narrow --from/--to (the parser checked that they parse).
  const std::int64_t now = now_ns();
  if (parsed.query->earliest)
    options.from_ns =
        std::max(options.from_ns, *search::parse_time_ns(*parsed.query->earliest, now));
  if (parsed.query->latest)
    options.to_ns = std::min(options.to_ns, *search::parse_time_ns(*parsed.query->latest, now));
  bool progress_shown = false;
  if (run.progress) {
    options.progress = [&](const search::SearchProgress& p) {
      std::fprintf(stderr, "\rsluice %s: %llu/%llu units, %llu events scanned, %llu matched   ",
                   cmd, static_cast<unsigned long long>(p.units_done),
                   static_cast<unsigned long long>(p.units_total),
                   static_cast<unsigned long long>(p.events_scanned),
                   static_cast<unsigned long long>(p.events_matched));
      progress_shown = true;
    };
  }
  Out out;
  search::SearchStats stats;
  if (run.alerts) {
    auto r = search::read_alerts(run.store, compiled.get(), options.from_ns, options.to_ns);
    if (!r) {
      std::fprintf(stderr, "sluice %s: %s\n", cmd, r.error().message.c_str());
      return 1;
    }
    std::uint64_t shown = 0;
    if (parsed.query->aggregation.kind != search::Aggregation::Kind::none) {
      write_aggregate(aggregate_alerts(r->alerts, parsed.query->aggregation), *parsed.query,
                      run.format, out);
      r->alerts.clear();
    }
    for (const auto& a : r->alerts) {
      if (options.limit != 0 && shown == options.limit) break;
      append_alert(out.buf(), a, run.format, "");
      ++shown;
      out.maybe_flush();
    }
    out.flush();
    for (const auto& e : r->errors)
      std::fprintf(stderr, "sluice %s: skipped the rest of an alert segment: %s\n", cmd,
                   e.message.c_str());
    return r->errors.empty() ? 0 : 1;
  }
  // Alerts shown inline (timeline): those whose event time is in the range. A detection follows
  // its event. A correlation or anomaly alert has no single event: it is shown at the time it
  // completed (its last event, the window's end), when the query matches it (e.g. the host is
  // in its group) or one of its events was shown before.
  std::unordered_multimap<std::uint64_t, const search::AlertRecord*> alerts_by_event;
  search::AlertResult alerts;
  std::vector<const search::AlertRecord*> timed;  // by completion time
  std::unordered_set<std::uint64_t> timed_matching, timed_refs, shown_refs;
  std::size_t next_timed = 0;
  if (run.inline_alerts) {
    auto r = search::read_alerts(run.store, nullptr, options.from_ns, options.to_ns);
    if (!r) {
      std::fprintf(stderr, "sluice %s: %s\n", cmd, r.error().message.c_str());
      return 1;
    }
    alerts = std::move(*r);
    for (const auto& a : alerts.alerts) {
      if (a.kind != "detection") {
        timed.push_back(&a);
        timed_refs.insert(a.event_sequences.begin(), a.event_sequences.end());
        continue;
      }
      for (auto seq : a.event_sequences)
        alerts_by_event.emplace(seq, &a);
    }
    std::stable_sort(timed.begin(), timed.end(),
                     [](const auto* x, const auto* y) { return x->last_ns < y->last_ns; });
    if (!timed.empty()) {
      auto matching =
          search::read_alerts(run.store, compiled.get(), options.from_ns, options.to_ns);
      if (!matching) {
        std::fprintf(stderr, "sluice %s: %s\n", cmd, matching.error().message.c_str());
        return 1;
      }
      for (const auto& a : matching->alerts)
        timed_matching.insert(a.sequence);
    }
    for (const auto& e : alerts.errors)
      std::fprintf(stderr, "sluice %s: skipped the rest of an alert segment: %s\n", cmd,
                   e.message.c_str());
  }
  // Shows the timed alerts that completed before `until_ns` and belong to this timeline.
  auto show_timed = [&](std::int64_t until_ns, SearchFormat format) {
    for (; next_timed < timed.size() && timed[next_timed]->last_ns < until_ns; ++next_timed) {
      const auto& a = *timed[next_timed];
      bool shown = timed_matching.count(a.sequence) != 0;
      for (auto seq : a.event_sequences)
        shown = shown || shown_refs.count(seq) != 0;
      if (shown) append_alert(out.buf(), a, format, "  ");
    }
  };
  if (parsed.query->aggregation.kind != search::Aggregation::Kind::none) {
    auto r = search::aggregate(run.store, *compiled, options);
    if (progress_shown) std::fputc('\n', stderr);
    if (!r) {
      std::fprintf(stderr, "sluice %s: %s\n", cmd, r.error().message.c_str());
      return 1;
    }
    write_aggregate(*r, *parsed.query, run.format, out);
    stats = std::move(r->stats);
  } else {
    const SearchFormat format = run.format;
    search::RenderFn render = [format](const StoredEvent& ev, std::string& text) {
      if (format == SearchFormat::json) {
        append_event_json(text, ev.event, ev.source_path);
      } else {
        append_event_text(text, ev);
      }
      text += '\n';
    };
    auto r = search::search_events(run.store, *compiled, options, render,
                                   [&](const search::SearchHit& hit) {
                                     show_timed(hit.time_ns, format);
                                     if (timed_refs.count(hit.sequence) != 0)
                                       shown_refs.insert(hit.sequence);
                                     out.buf() += hit.text;
                                     auto [lo, hi] = alerts_by_event.equal_range(hit.sequence);
                                     for (auto it = lo; it != hi; ++it)
                                       append_alert(out.buf(), *it->second, format, "  ");
                                     out.maybe_flush();
                                     return true;
                                   });
    if (progress_shown) std::fputc('\n', stderr);
    if (!r) {
      std::fprintf(stderr, "sluice %s: %s\n", cmd, r.error().message.c_str());
      return 1;
    }
    show_timed(std::numeric_limits<std::int64_t>::max(), format);
    stats = std::move(*r);
  }
  out.flush();
  for (const auto& e : stats.errors)
    std::fprintf(stderr, "sluice %s: skipped the rest of a segment: %s\n", cmd, e.message.c_str());
  if (run.stats) print_stats(stats);
  return stats.errors.empty() && alerts.errors.empty() ? 0 : 1;
}

int search_command(int argc, char** argv) {
  SearchRun run;
  run.progress = ::isatty(STDERR_FILENO) != 0;
  const std::int64_t now = now_ns();
  std::string query;
  bool have_query = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&](std::string_view name) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "sluice search: %.*s needs a value\n", static_cast<int>(name.size()),
                     name.data());
        return nullptr;
      }
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::fputs(search_usage, stdout);
      return 0;
    } else if (a == "--store") {
      const char* v = value(a);
      if (v == nullptr) return 2;
      run.store = v;
    } else if (a == "--from" || a == "--to") {
      const char* v = value(a);
      if (v == nullptr) return 2;
      auto t = search::parse_time_ns(v, now);
      if (!t) {
        std::fprintf(stderr,
                     "sluice search: %s: '%s' is not a time (RFC 3339, -15m, now, @SECONDS)\n",
                     argv[i - 1], v);
        return 2;
      }
      (a == "--from" ? run.options.from_ns : run.options.to_ns) = *t;
    } else if (a == "--limit") {
      const char* v = value(a);
      if (v == nullptr) return 2;
      char* end = nullptr;
      const unsigned long long n = std::strtoull(v, &end, 10);
      if (*v == '\0' || *end != '\0' || n == 0) {
        std::fprintf(stderr, "sluice search: --limit needs a positive number\n");
        return 2;
      }
      run.options.limit = n;
    } else if (a == "--format") {
      const char* v = value(a);
      if (v == nullptr) return 2;
      if (std::strcmp(v, "json") == 0) {
        run.format = SearchFormat::json;
      } else if (std::strcmp(v, "text") == 0) {
        run.format = SearchFormat::text;
      } else {
        std::fprintf(stderr, "sluice search: --format is json or text\n");
        return 2;
      }
    } else if (a == "--progress") {
      run.progress = true;
    } else if (a == "--no-progress") {
      run.progress = false;
    } else if (a == "--stats") {
      run.stats = true;
    } else if (a == "--alerts") {
      run.alerts = true;
    } else if (a.size() > 2 && a.substr(0, 2) == "--") {
      std::fprintf(stderr, "sluice search: unknown option '%s'\n%s", argv[i], search_usage);
      return 2;
    } else {
      // Several words are one query, as a shell user would expect.
      if (have_query) query += ' ';
      query += a;
      have_query = true;
    }
  }
  if (run.store.empty()) {
    std::fprintf(stderr, "sluice search: --store DIR is required\n%s", search_usage);
    return 2;
  }
  if (!have_query) {
    std::fprintf(stderr, "sluice search: a QUERY is required ('*' matches everything)\n");
    return 2;
  }
  run.query = std::move(query);
  return execute_search(run);
}

}  // namespace sluice::cli
