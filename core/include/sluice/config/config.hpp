// SPDX-License-Identifier: Apache-2.0
/// The `sluice run` configuration: one TOML file whose every key has a working default, read
/// into plain structs, one per section. Unknown keys and wrong types are errors; every error
/// names the file, line and key, and all errors are reported at once.
///
/// Relative paths in the file are taken relative to the working directory of `sluice run`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sluice/alert/alert.hpp"
#include "sluice/capture/capture_config.hpp"
#include "sluice/common/result.hpp"
#include "sluice/correlate/engine.hpp"
#include "sluice/ingest/source_factory.hpp"
#include "sluice/parse/parser.hpp"
#include "sluice/store/store_config.hpp"

namespace sluice {

/// `[general]`
struct GeneralConfig {
  std::size_t workers = 0;              ///< worker threads; 0 = one per core
  bool pin_cpus = false;                ///< pin worker i to CPU i
  std::string log_level = "info";       ///< trace, debug, info, warn, error
  double summary_interval_seconds = 5;  ///< one-line summary on stderr; 0 disables
  std::size_t batch_size = 512;         ///< records per batch
  std::size_t ring_capacity = 64;       ///< batches per ring (power of two)
};

/// One `[[input]]`: the source description the ingest factory builds from, with the keys of
/// `SourceSpec` (`type` names its `kind`; `sockets` its `socket_count`). Inputs bind to
/// 127.0.0.1:5514 unless told otherwise, so a default configuration exposes nothing.
struct InputConfig {
  SourceSpec spec;
  int line = 0;  ///< where the section starts, for messages
};

/// `[rules]`
struct RulesConfig {
  std::vector<std::string> paths;  ///< Sigma rule files or folders
  std::string mapping;             ///< field-mapping file; empty = the shipped default
  std::string min_level;           ///< load only rules at or above this level
};

/// `[output.events]` and `[output.alerts]`; an empty path disables that output.
struct OutputConfig {
  std::string events_path;  ///< JSON lines of every event ("-" = stdout)
  std::string alerts_path;  ///< JSON lines of every alert ("-" = stdout)
};

/// `[templates]`: the template miner (anomaly/template_miner.hpp).
struct TemplatesConfig {
  bool enabled = false;     ///< mine a template id for every event (stored and output with it)
  std::string table;        ///< template table, loaded at start and saved at stop; "" = not kept
  double similarity = 0.6;  ///< share of equal tokens to join a template (Drain's st)
  std::size_t depth = 4;    ///< prefix-tree depth (Drain's depth)
};

/// `[anomaly]`: scoring windows of template counts with a trained model (anomaly/).
struct AnomalyConfig {
  std::string model;                           ///< from `sluice anomaly train`; "" = no scoring
  std::string backend = "auto";                ///< auto, cpu, cuda
  std::vector<std::string> entity = {"host"};  ///< fields that name the entity
  std::size_t window_seconds = 60;             ///< tumbling event-time window
  /// Also write each anomalous window as one JSON line here ("-" = stdout); "" = only alert
  /// handling (the default: anomaly alerts go through correlation and `[alerts]` like any).
  std::string alerts_path;
};

/// `[metrics]`
struct MetricsConfig {
  std::string listen = "127.0.0.1:9514";  ///< HTTP /metrics endpoint; empty disables
};

/// `[correlation]`: Sigma correlation rules (loaded with the `[rules]` paths).
struct CorrelationSettings {
  bool enabled = true;  ///< apply correlation rules found among the rules
  /// threads, shards, max_groups, tolerance (`tolerance_seconds`), max_refs.
  CorrelationConfig engine;
  /// Folder of the state snapshot (`correlation.state`); empty = the store's folder when a
  /// store is configured, else no snapshot.
  std::string data_dir;
  double snapshot_interval_seconds = 60;  ///< periodic snapshot; 0 = only at shutdown
};

struct Config {
  GeneralConfig general;
  /// `[store]`: the event store; present (even empty) = every event and alert is stored.
  bool store_enabled = false;
  StoreConfig store;
  ParserConfig parser;  ///< `[parser]`: format, extract_key_values, default_tz_offset_minutes
  std::vector<InputConfig> inputs;
  /// `[capture.afpacket]`, `[capture.dpdk]`: live packet capture (syslog and flow records).
  CaptureConfig capture;
  RulesConfig rules;
  OutputConfig output;
  MetricsConfig metrics;
  CorrelationSettings correlation;  ///< `[correlation]`
  AlertsConfig alerts;              ///< `[alerts]`, `[[alerts.sink]]`, `[[alerts.suppress]]`
  TemplatesConfig templates;
  AnomalyConfig anomaly;
};

/// Reads and validates a configuration file. The error lists every problem, one per line, each
/// as `FILE:LINE: KEY: what is wrong`.
Result<Config> load_config(const std::string& path);

/// Same, from text; `name` stands for the file in messages.
Result<Config> parse_config(const std::string& text, const std::string& name);

}  // namespace sluice
