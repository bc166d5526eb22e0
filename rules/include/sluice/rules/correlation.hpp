// SPDX-License-Identifier: Apache-2.0
/// Sigma correlation rules (sigma-correlation-rules-specification.md) on top of a loaded Sigma
/// `RuleSet`: loading and validation, the name-to-id translation of `rules`, `aliases`, the
/// field mapping of `group-by` per referenced rule, chains of correlations, `generate`; and the
/// `CorrelationOutput` that plugs the engine into the pipeline.
///
/// Correlation documents live in the same files and folders as the rules they reference
/// (multi-document YAML). The Sigma loader skips them with reason "correlation"; this loader
/// reads them, and its diagnostics use the same `LoadReport`.
///
/// Group-by values come from the event's fields through the mapping file (`fields` per log
/// source), and, where the event has no such field (free-text syslog such as sshd), from the
/// mapping file's `extract` section: per log source entry name and field, RE2 patterns whose
/// first capture group is the value. A detection lacking a group-by value is not correlated
/// (counted in `CorrelationOutput` as `missing_group`), so unrelated events never share the
/// empty group.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "sluice/alert/alert.hpp"
#include "sluice/anomaly/anomaly_stage.hpp"
#include "sluice/common/result.hpp"
#include "sluice/correlate/coalescer.hpp"
#include "sluice/correlate/engine.hpp"
#include "sluice/detect/rule_set.hpp"
#include "sluice/output/output.hpp"
#include "sluice/rules/sigma.hpp"
#include "sluice/store/store_output.hpp"

namespace sluice::rules {

/// Correlation rules resolved against one base rule set. Immutable; thread-safe to read.
class CorrelationSet {
 public:
  ~CorrelationSet();
  /// The engine's rules, levels and chain links.
  const std::vector<CorrelationSpec>& specs() const;
  /// False for a base rule that a correlation references without `generate: true`: its
  /// detections feed correlations but are not alerts of their own.
  bool base_generates(std::uint32_t base_rule) const;
  /// False for a correlation that another one consumes without `generate: true`.
  bool correlation_generates(std::uint32_t correlation) const;
  /// True when some correlation consumes detections of this base rule.
  bool consumes(std::uint32_t base_rule) const;
  /// Appends one engine input per correlation step that consumes `d` (a detection of `event`),
  /// with the group key and value read from the event. Returns false (and appends nothing for
  /// that step) when a group-by value is missing. Thread-safe; allocates into `out`.
  struct Input {
    std::uint32_t correlation;
    std::uint16_t step;
    std::string key;
    std::string value;
  };
  std::size_t inputs_for(const Event& event, const Detection& d, std::vector<Input>& out,
                         std::size_t& missing) const;
  /// Anomaly alerts (anomaly_stage.hpp; correlation rules name the detectors in `rules` by id
  /// or name): false for a detector that a correlation references without `generate: true`.
  bool alert_generates(const Alert& anomaly) const;
  /// True when some correlation consumes this anomaly alert's detector.
  bool consumes(const Alert& anomaly) const;
  /// As `inputs_for` above, for an anomaly alert: group-by values are its group fields (the
  /// entity fields) by name, after the correlation's aliases for the detector.
  std::size_t inputs_for(const Alert& anomaly, std::vector<Input>& out, std::size_t& missing) const;
  /// The alert for a correlation result (rule fields, group fields by name, stable id).
  Alert make_alert(const CorrelationAlert& a) const;
  /// The base rule set the correlations were resolved against.
  const RuleSet* base_rules() const;

  /// Reloads (SIGHUP): sets loaded one after another for one pipeline form a family, each with
  /// its generation (0 for the first). A batch carries the detections of whatever base rule
  /// set a worker had, so outputs built on any member find the member resolved against that
  /// rule set here; null when none is (any more). Thread-safe (a mutex per call).
  std::shared_ptr<const CorrelationSet> for_rules(const RuleSet* rules) const;
  /// The member of this set's family with `generation`, or null.
  std::shared_ptr<const CorrelationSet> for_generation(std::uint64_t generation) const;
  std::uint64_t generation() const;
  /// Makes `next` the newest member of `previous`'s family. Call before the pipeline gets
  /// `next`'s base rule set. The family holds its members weakly: keep `next` alive while
  /// batches of its rule set may be in flight (`CorrelationOutput::adopt` does).
  static void link(const std::shared_ptr<const CorrelationSet>& previous,
                   const std::shared_ptr<const CorrelationSet>& next);

  struct Family;
  struct Impl;
  explicit CorrelationSet(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

/// Loads the correlation rules found in `options.paths` (and `texts`, (origin, YAML) pairs)
/// and resolves them against `base` (loaded from the same sources). Problems go to `report`
/// (`errors` for malformed correlations, `skipped` for valid ones this engine does not run,
/// such as value_sum). Fails only when the mapping file cannot be read.
Result<std::shared_ptr<const CorrelationSet>> load_correlations(
    const SigmaOptions& options, const std::vector<std::pair<std::string, std::string>>& texts,
    const std::shared_ptr<const RuleSet>& base, LoadReport& report);

/// Runs correlation inside the pipeline as an `Output`: workers render each batch's relevant
/// detections into compact records (group keys extracted in parallel); the sink thread feeds
/// them to the engine in source order and hands every alert to the `AlertHandler`.
///
/// Base detections of rules that generate alerts are passed to the handler too when
/// `handle_detections` is set (`sluice run`), so suppression and the sinks see every alert.
class CorrelationOutput final : public Output {
 public:
  CorrelationOutput(std::shared_ptr<const CorrelationSet> set,
                    std::shared_ptr<CorrelationEngine> engine,
                    std::shared_ptr<AlertHandler> handler, bool handle_detections);
  std::string describe() const override;
  std::size_t render(const EventBatch& batch, std::span<const Detection> detections,
                     const RuleSet* rules, std::string& out) const override;
  /// Holds the batch's inputs back (`CorrelationCoalescer`): they reach the engine when the
  /// sink runs out of batches (`idle`), or sooner when enough are held or the oldest has waited
  /// long enough. Base detections go to the handler at once.
  Result<void> write(std::string_view bytes) override;
  /// Submits the held inputs first.
  Result<void> flush() override;
  /// The sink has no batch waiting: submits the held inputs.
  void idle() override;
  /// End of input: decides every open window and sends the remaining alerts (scan).
  void finish();
  /// Engine submits and the inputs they carried (the mean is the coalesced submit size).
  std::uint64_t submits() const { return held_inputs_.submits(); }
  std::uint64_t submitted_inputs() const { return held_inputs_.submitted(); }
  /// Saves engine state to `path` every `interval_seconds` (0 = only on `snapshot()`), from
  /// the sink thread between batches. Call before the pipeline starts.
  void set_snapshot(std::string path, double interval_seconds);
  /// With an event store in the pipeline, added *before* this output: contributing events are
  /// referenced by their store sequence numbers (the store appends every event of a batch, in
  /// order, before this output sees the batch). Call before the pipeline starts.
  void set_store(StoreOutput* store) { store_ = store; }
  /// Live input (`sluice run`): when no detection has arrived for as long in wall time as the
  /// tolerance is in event time (at least 200 ms), apply what waits for the watermark, so the
  /// last events before a pause still raise their alerts. Off by default (scan, replays).
  void set_drain_when_quiet(bool on) { drain_when_quiet_ = on; }
  /// Anomaly alerts join here (when `stage` has a model): the stage counts windows in source
  /// order (`AnomalyStage::set_ordered`; workers render each event's entity, time and template,
  /// this output feeds them to the stage on the sink thread), and after each batch the alerts
  /// of the windows it closed go, in the same engine submit as the batch's detections, to the
  /// correlations that consume their detector, and to the handler when the detector generates
  /// alerts. An anomaly enters correlation at its window's end. A window closes when an event
  /// `lateness` (5 s) past its end arrives, so with a correlation tolerance of at least that
  /// (`sluice run` and `sluice scan` raise it) no anomaly is late, whatever the worker count.
  /// Call before the pipeline starts.
  void set_anomaly_stage(std::shared_ptr<AnomalyStage> stage);
  /// Takes and delivers the anomaly alerts waiting now: after the pipeline has stopped and
  /// `AnomalyStage::finish` scored the last windows. `finish` does it too.
  void deliver_anomaly_alerts();
  /// Saves engine state now. Only when the pipeline is not running (or from the sink thread).
  Result<void> snapshot();
  /// SIGHUP: takes `next` (the correlation rules loaded for a new base rule set) as the
  /// successor of the current set. Call from the thread that reloads, before the pipeline
  /// gets the new base rule set. The sink thread switches the engine (`CorrelationEngine::
  /// reload`: state of unchanged rules kept) at the first batch detected with the new rules,
  /// and logs what it kept and dropped. Inputs of batches still detected with an older set
  /// go to the same rule in the new set when its definition is unchanged; otherwise they are
  /// dropped and counted (`reload_dropped_inputs`).
  void adopt(std::shared_ptr<const CorrelationSet> next);
  /// Inputs of batches detected with an older rule set whose rule was changed or removed.
  std::uint64_t reload_dropped_inputs() const {
    return reload_dropped_.load(std::memory_order_relaxed);
  }
  /// Batches whose base rule set has no correlation set any more (more than
  /// `max_held_sets` reloads while they were in flight); not correlated, counted.
  std::uint64_t stale_batches() const { return stale_.load(std::memory_order_relaxed); }
  /// Rule sets the output keeps alive for batches in flight: reloads come from people, seconds
  /// apart, while a batch is in flight for milliseconds (trade-off, not measured).
  static constexpr std::size_t max_held_sets = 4;
  std::uint64_t snapshot_errors() const { return snapshot_errors_.load(std::memory_order_relaxed); }

  /// Detections that lacked a group-by value.
  std::uint64_t missing_group() const { return missing_.load(std::memory_order_relaxed); }
  std::uint64_t correlation_alerts() const { return alerts_.load(std::memory_order_relaxed); }

 private:
  void deliver(std::vector<CorrelationAlert>& alerts, std::int64_t detected_mono_ns);
  void collect_anomaly(std::int64_t now);
  void maybe_snapshot(std::int64_t now);
  /// Sink thread: the set of a batch's generation; switches the engine to a newer one.
  const CorrelationSet* set_for_batch(std::uint64_t generation);
  /// Sink thread: submits the held inputs and delivers the alerts.
  void submit_held();
  /// Sink thread: `older`'s correlation indexes in `current_` (-1: changed or removed).
  const std::vector<std::int64_t>& remap_for(const CorrelationSet& older);
  std::shared_ptr<const CorrelationSet> set_;      ///< the first set (immutable: workers read it)
  std::shared_ptr<const CorrelationSet> current_;  ///< the engine's set (sink thread)
  /// Sink thread: per older generation, its correlation index -> the current one, or -1.
  std::vector<std::pair<std::uint64_t, std::vector<std::int64_t>>> remap_;
  std::mutex held_mutex_;
  std::vector<std::shared_ptr<const CorrelationSet>> held_;
  std::atomic<std::uint64_t> reload_dropped_{0};
  mutable std::atomic<std::uint64_t> stale_{0};
  std::shared_ptr<CorrelationEngine> engine_;
  std::shared_ptr<AlertHandler> handler_;
  bool handle_detections_;
  mutable std::atomic<std::uint64_t> missing_{0};
  std::atomic<std::uint64_t> alerts_{0};
  std::vector<CorrelationAlert> scratch_;
  CorrelationCoalescer held_inputs_;
  std::string snapshot_path_;
  std::int64_t snapshot_interval_ns_ = 0;
  std::int64_t last_snapshot_ns_ = 0;
  std::int64_t last_input_ns_ = 0;  ///< monotonic time of the last inputs; 0 = drained
  bool drain_when_quiet_ = false;
  StoreOutput* store_ = nullptr;
  std::shared_ptr<AnomalyStage> anomaly_;
  std::vector<Alert> anomaly_alerts_;                // taken from the stage, sink thread
  std::vector<CorrelationSet::Input> anomaly_keys_;  // their inputs' keys, kept during submit
  std::atomic<std::uint64_t> snapshot_errors_{0};
};

/// Wraps an alert output so that it renders only detections of rules that generate alerts
/// (`CorrelationSet::base_generates`); everything else passes through unchanged.
class GeneratingOutput final : public Output {
 public:
  GeneratingOutput(std::unique_ptr<Output> inner, std::shared_ptr<const CorrelationSet> set);
  std::string describe() const override;
  std::size_t render(const EventBatch& batch, std::span<const Detection> detections,
                     const RuleSet* rules, std::string& out) const override;
  Result<void> write(std::string_view bytes) override;
  Result<void> flush() override;

 private:
  std::unique_ptr<Output> inner_;
  std::shared_ptr<const CorrelationSet> set_;
};

/// Compiles a suppression `filter` (a Sigma detection: search identifiers over alert group
/// fields, `rule.id`, `rule.name`, `rule.level`, plus `condition`) into a predicate.
Result<AlertPredicate> compile_alert_filter(const std::string& yaml);

}  // namespace sluice::rules
