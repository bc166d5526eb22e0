// SPDX-License-Identifier: Apache-2.0
/// What `sluice run` and `sluice scan` share: building sources from input descriptions, loading
/// rules, the signal loop and the human summary line.
#pragma once

#include <csignal>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sluice/common/result.hpp"
#include "sluice/config/config.hpp"
#include "sluice/detect/rule_set.hpp"
#include "sluice/ingest/source.hpp"
#include "sluice/output/json_lines.hpp"
#include "sluice/pipeline/pipeline.hpp"
#include "sluice/rules/correlation.hpp"
#include "sluice/store/store_output.hpp"

namespace sluice::cli {

/// Adds a JSON-lines output of `kind` writing to `path` ("-" = stdout); an empty path adds none.
Result<void> add_json_output(Pipeline& pipeline, JsonLinesKind kind, const std::string& path);

/// Opens the event store and adds it to the pipeline (which owns it); registers its counters
/// when `metrics` is given. Returns the store, for its summary once the pipeline has stopped.
Result<StoreOutput*> add_store(Pipeline& pipeline, const StoreConfig& config,
                               MetricsRegistry* metrics);

/// Loads Sigma rules; prints a one-line load summary and, at `verbose`, every skipped rule.
Result<std::shared_ptr<const RuleSet>> load_rules(const RulesConfig& rules, bool verbose);

/// Loads the correlation rules among `rules.paths`, resolved against `base`; prints a summary
/// and every problem when there are correlation documents.
Result<std::shared_ptr<const rules::CorrelationSet>> load_correlation_rules(
    const RulesConfig& rules, const std::shared_ptr<const RuleSet>& base);

/// Correlation engine, alert handler and their pipeline output, as `add_correlation` built them.
struct CorrelationWiring {
  std::shared_ptr<const rules::CorrelationSet> set;
  std::shared_ptr<CorrelationEngine> engine;
  std::shared_ptr<AlertHandler> handler;
  rules::CorrelationOutput* output = nullptr;  ///< owned by the pipeline
  std::string snapshot_path;                   ///< empty = no snapshot
};

/// Builds the engine (restoring `snapshot_dir/correlation.state` when `snapshot_dir` is set),
/// the alert sinks and suppressions, and adds the correlation output to `pipeline`. Registers
/// counters when `metrics` is given. With `store` (added to the pipeline before), the store's
/// alert log becomes one more sink, so it holds what alert handling emits (and the store stops
/// writing detections there itself), and alerts reference events by store sequence number.
Result<CorrelationWiring> add_correlation(Pipeline& pipeline,
                                          std::shared_ptr<const rules::CorrelationSet> set,
                                          const CorrelationSettings& settings,
                                          const AlertsConfig& alerts, bool handle_detections,
                                          const std::string& snapshot_dir, MetricsRegistry* metrics,
                                          StoreOutput* store = nullptr);

/// The alert path of `sluice run` and `sluice scan` in one rule: alert handling (and so the
/// correlation output, with an empty correlation set when none is loaded) exists whenever
/// alerts exist and have somewhere to go: correlation rules, alert sinks, an anomaly model, or
/// rules with an event store (whose alert log is a sink).
bool wants_alert_handling(bool correlations, bool sinks, bool anomaly_model, bool rules,
                          bool store);

/// With an anomaly model: raises the correlation tolerance to at least the anomaly windows'
/// lateness, so that no anomaly reaches correlation late (rules::CorrelationOutput).
void fit_tolerance_to_anomaly(CorrelationSettings& settings);

/// One line of correlation and alert counters.
std::string correlation_summary(const CorrelationWiring& wiring);

/// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread and every thread it starts after
/// this call, so that only `wait_for_signal` sees them.
void block_signals();

/// Waits up to `timeout_ms` for SIGINT, SIGTERM or SIGHUP; returns the signal or 0.
int wait_for_signal(int timeout_ms);

/// "events 12,345 (1,234/s) parsed 12,000 unparsed 345 dropped 0 alerts 12"
std::string summary_line(const PipelineStats& now, const PipelineStats& before,
                         double interval_seconds);

}  // namespace sluice::cli
