// SPDX-License-Identifier: Apache-2.0
/// Correlation and alert handling for `sluice run` and `sluice scan`: loads the correlation
/// rules found among the rule paths, builds the engine (restoring its snapshot), the alert
/// handler with its sinks and suppressions, and adds the `CorrelationOutput` to the pipeline.
#include <fmt/format.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>

#include "app.hpp"
#include "sluice/anomaly/features.hpp"
#include "sluice/rules/correlation.hpp"

namespace sluice::cli {

Result<std::shared_ptr<const rules::CorrelationSet>> load_correlation_rules(
    const RulesConfig& rules_config, const std::shared_ptr<const RuleSet>& base) {
  rules::SigmaOptions options;
  options.paths = rules_config.paths;
  options.mapping_path = rules_config.mapping;
  rules::LoadReport report;
  auto set = rules::load_correlations(options, {}, base, report);
  if (!set) return set.error();
  if (!set.value()->specs().empty() || !report.errors.empty() || !report.skipped.empty()) {
    std::fprintf(stderr, "sluice: correlation: %zu rules loaded, %zu skipped, %zu with errors\n",
                 set.value()->specs().size(), report.skipped.size(), report.errors.size());
  }
  for (const auto& d : report.skipped)
    std::fprintf(stderr, "  skipped %s (%s): %s\n", d.path.c_str(), d.rule_id.c_str(),
                 d.message.c_str());
  for (const auto& d : report.errors)
    std::fprintf(stderr, "  error %s:%zu (%s): %s\n", d.path.c_str(), d.line, d.rule_id.c_str(),
                 d.message.c_str());
  return set;
}

Result<CorrelationWiring> add_correlation(Pipeline& pipeline,
                                          std::shared_ptr<const rules::CorrelationSet> set,
                                          const CorrelationSettings& settings,
                                          const AlertsConfig& alerts, bool handle_detections,
                                          const std::string& snapshot_dir, MetricsRegistry* metrics,
                                          StoreOutput* store) {
  CorrelationWiring w;
  w.set = std::move(set);
  w.engine = std::make_shared<CorrelationEngine>(w.set->specs(), settings.engine);
  if (!snapshot_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(snapshot_dir, ec);
    w.snapshot_path = (std::filesystem::path(snapshot_dir) / "correlation.state").string();
    if (auto r = w.engine->restore(w.snapshot_path); !r) return r.error();
    const auto st = w.engine->stats();
    if (st.restored_groups + st.dropped_restored > 0)
      std::fprintf(stderr,
                   "sluice: correlation: restored %llu groups from %s (%llu of rules no longer "
                   "loaded dropped)\n",
                   static_cast<unsigned long long>(st.restored_groups), w.snapshot_path.c_str(),
                   static_cast<unsigned long long>(st.dropped_restored));
  }
  std::vector<std::unique_ptr<AlertSink>> sinks;
  for (const auto& sc : alerts.sinks) {
    auto sink = make_alert_sink(sc);
    if (!sink) return sink.error();
    sinks.push_back(std::move(sink).value());
  }
  if (store != nullptr) {
    sinks.push_back(store->alert_sink());
    store->set_detection_alerts(false);
  }
  std::vector<AlertPredicate> predicates(alerts.suppress.size());
  for (std::size_t i = 0; i < alerts.suppress.size(); ++i) {
    if (alerts.suppress[i].filter.empty()) continue;
    auto p = rules::compile_alert_filter(alerts.suppress[i].filter);
    if (!p)
      return Error{
          fmt::format("alerts.suppress (line {}): {}", alerts.suppress[i].line, p.error().message)};
    predicates[i] = std::move(p).value();
  }
  auto handler = AlertHandler::create(alerts, std::move(sinks), std::move(predicates));
  if (!handler) return handler.error();
  w.handler = std::shared_ptr<AlertHandler>(std::move(handler).value());
  auto out =
      std::make_unique<rules::CorrelationOutput>(w.set, w.engine, w.handler, handle_detections);
  if (!w.snapshot_path.empty())
    out->set_snapshot(w.snapshot_path, settings.snapshot_interval_seconds);
  out->set_store(store);
  w.output = out.get();
  pipeline.add_output(std::move(out));
  if (metrics != nullptr) {
    auto engine = w.engine;
    auto h = w.handler;
    auto* output = w.output;
    struct Gauge {
      const char* name;
      const char* help;
      std::function<double()> read;
    };
    const Gauge gauges[] = {
        {"sluice_correlation_inputs_total", "Detections routed to correlation rules",
         [engine] { return double(engine->stats().inputs); }},
        {"sluice_correlation_late_total",
         "Correlation inputs older than the watermark (beyond the out-of-order tolerance), not "
         "applied",
         [engine] { return double(engine->stats().late); }},
        {"sluice_correlation_groups", "Correlation groups tracked",
         [engine] { return double(engine->stats().groups); }},
        {"sluice_correlation_evicted_total",
         "Correlation groups evicted with a partial window (group cap)",
         [engine] { return double(engine->stats().evicted); }},
        {"sluice_correlation_alerts_total", "Correlation alerts raised",
         [engine] { return double(engine->stats().alerts); }},
        {"sluice_correlation_missing_group_total",
         "Detections not correlated because a group-by value was missing",
         [output] { return double(output->missing_group()); }},
        {"sluice_correlation_non_numeric_total",
         "value_sum/value_avg inputs whose field was not a number, not applied",
         [engine] { return double(engine->stats().non_numeric); }},
        {"sluice_correlation_window_overflow_total",
         "Events that left a metric correlation window early (per-group event cap)",
         [engine] { return double(engine->stats().window_overflow); }},
        {"sluice_correlation_reloads_total", "Correlation rule set reloads (SIGHUP)",
         [engine] { return double(engine->stats().reloads); }},
        {"sluice_correlation_reload_dropped_pending_total",
         "Inputs waiting for the watermark whose rule a reload changed or removed, not applied",
         [engine] { return double(engine->stats().reload_dropped); }},
        {"sluice_correlation_reload_dropped_inputs_total",
         "Inputs detected with older rules whose correlation rule changed or was removed",
         [output] { return double(output->reload_dropped_inputs()); }},
        {"sluice_correlation_stale_batches_total",
         "Batches detected with a rule set no longer known to correlation, not correlated",
         [output] { return double(output->stale_batches()); }},
        {"sluice_alerts_received_total", "Alerts handled",
         [h] { return double(h->stats().received); }},
        {"sluice_alerts_suppressed_total", "Alerts removed by suppression lists",
         [h] { return double(h->stats().suppressed); }},
        {"sluice_alerts_duplicates_total", "Alerts deduplicated",
         [h] { return double(h->stats().duplicates); }},
        {"sluice_alerts_throttled_total", "Alerts throttled",
         [h] { return double(h->stats().throttled); }},
        {"sluice_alerts_sent_total", "Alerts sent to the sinks",
         [h] { return double(h->stats().sent); }},
        {"sluice_alerts_sink_errors_total", "Failed alert sink writes",
         [h] { return double(h->stats().sink_errors); }},
        {"sluice_alerts_sink_dropped_total", "Alerts a sink could not deliver (webhook)",
         [h] { return double(h->stats().sink_dropped); }},
    };
    for (const auto& g : gauges)
      metrics->add_gauge(g.name, g.help, "", g.read);
    const auto names = h->stats().by_suppression;
    for (std::size_t i = 0; i < names.size(); ++i) {
      // Prometheus label values escape backslash and double quote; newlines become spaces.
      std::string label;
      for (char c : names[i].first) {
        if (c == '\\' || c == '"') label += '\\';
        label += c == '\n' ? ' ' : c;
      }
      metrics->add_gauge("sluice_alerts_suppressed_by_total", "Alerts removed by each suppression",
                         fmt::format("suppression=\"{}\"", label),
                         [h, i] { return double(h->stats().by_suppression.at(i).second); });
    }
  }
  return w;
}

bool wants_alert_handling(bool correlations, bool sinks, bool anomaly_model, bool rules,
                          bool store) {
  return correlations || sinks || anomaly_model || (rules && store);
}

void fit_tolerance_to_anomaly(CorrelationSettings& settings) {
  const std::int64_t lateness =
      std::chrono::duration_cast<std::chrono::nanoseconds>(FeatureConfig{}.lateness).count();
  settings.engine.tolerance_ns = std::max(settings.engine.tolerance_ns, lateness);
}

std::string correlation_summary(const CorrelationWiring& w) {
  const auto e = w.engine->stats();
  const auto a = w.handler->stats();
  std::string out = fmt::format(
      "correlation: {} inputs, {} alerts, {} late, {} groups, {} evicted, {} missing group; "
      "alerts: {} received, {} suppressed, {} duplicates, {} throttled, {} sent, {} sink errors, "
      "{} sink dropped",
      e.inputs, e.alerts, e.late, e.groups, e.evicted, w.output->missing_group(), a.received,
      a.suppressed, a.duplicates, a.throttled, a.sent, a.sink_errors, a.sink_dropped);
  for (const auto& [name, n] : a.by_suppression)
    out += fmt::format("; suppressed by '{}': {}", name, n);
  return out;
}

}  // namespace sluice::cli
