// SPDX-License-Identifier: Apache-2.0
#include "sluice/search/alerts.hpp"

#include <algorithm>

#include "sluice/store/alert_log.hpp"

namespace sluice::search {

Result<AlertResult> read_alerts(const std::filesystem::path& dir, const CompiledQuery* query,
                                std::int64_t from_ns, std::int64_t to_ns) {
  auto reader = AlertReader::open(dir);
  if (!reader) return reader.error();
  AlertResult out;
  std::unique_ptr<Matcher> matcher;
  if (query != nullptr && !query->matches_everything()) matcher = query->make_matcher();
  Arena arena;
  std::string raw;
  std::vector<Field> fields;
  const auto report = reader->for_each(arena, [&](const StoredAlert& a) {
    if (a.event_time_ns < from_ns || a.event_time_ns >= to_ns) return true;
    AlertRecord r;
    r.sequence = a.sequence;
    r.time_ns = a.event_time_ns;
    r.rule_id = a.rule_id;
    r.title = a.title;
    r.level = a.level;
    for (auto t : a.attack_techniques)
      r.techniques.emplace_back(t);
    for (const auto& f : a.matched)
      r.matched.emplace_back(std::string(f.name), std::string(f.value));
    r.event_sequences.assign(a.event_sequences.begin(), a.event_sequences.end());
    r.id = a.alert_id;
    if (!a.kind.empty()) r.kind = a.kind;
    r.rule_name = a.rule_name;
    r.correlation_type = a.correlation_type;
    r.last_ns = a.last_time_ns;
    r.count = a.count;
    for (const auto& f : a.details)
      r.details.emplace_back(std::string(f.name), std::string(f.value));
    if (matcher) {
      // The alert as an event (alerts.hpp): views into `r`, which outlives the call.
      raw = r.title + ' ' + r.rule_id + ' ' + r.level;
      fields.clear();
      fields.push_back(Field{"rule.id", r.rule_id});
      fields.push_back(Field{"rule.name", r.title});
      fields.push_back(Field{"rule.level", r.level});
      for (const auto& t : r.techniques) {
        raw += ' ';
        raw += t;
        fields.push_back(Field{"threat.technique.id", t});
      }
      fields.push_back(Field{"alert.kind", r.kind});
      if (!r.id.empty()) fields.push_back(Field{"alert.id", r.id});
      if (!r.rule_name.empty()) {
        raw += ' ';
        raw += r.rule_name;
        fields.push_back(Field{"rule.ruleset_name", r.rule_name});
      }
      raw += ' ';
      raw += r.kind;
      std::string_view host, app;
      for (const auto& [name, value] : r.matched) {
        raw += ' ';
        raw += value;
        fields.push_back(Field{name, value});
        if (name == "host" || name == "host.name" || name == "host.hostname") host = value;
        if (name == "app" || name == "process.name") app = value;
      }
      for (const auto& [name, value] : r.details)
        fields.push_back(Field{name, value});
      StoredEvent ev;
      ev.event.host = host;
      ev.event.app = app;
      ev.sequence = r.sequence;
      ev.event.event_time_ns = r.time_ns;
      ev.event.raw = raw;
      ev.event.message = r.title;
      ev.event.fields = fields;
      if (!matcher->matches(ev)) return true;
    }
    out.alerts.push_back(std::move(r));
    return true;
  });
  out.errors = report.errors;
  std::stable_sort(
      out.alerts.begin(), out.alerts.end(), [](const AlertRecord& a, const AlertRecord& b) {
        return a.time_ns != b.time_ns ? a.time_ns < b.time_ns : a.sequence < b.sequence;
      });
  return out;
}

}  // namespace sluice::search
