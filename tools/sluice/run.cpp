// SPDX-License-Identifier: Apache-2.0
/// `sluice run --config FILE`: the appliance. Starts the configured listeners, rules, outputs
/// and the /metrics endpoint, prints a summary line every few seconds, reloads rules on SIGHUP,
/// and on SIGINT/SIGTERM stops the sources, drains every ring and prints the final counters as
/// one JSON object (the last line on stderr).
#include <fmt/format.h>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "accelerators.hpp"
#include "anomaly_setup.hpp"
#include "app.hpp"
#include "commands.hpp"
#include "sluice/capture/capture_registry.hpp"
#include "sluice/common/log.hpp"
#include "sluice/metrics/http_server.hpp"
#include "sluice/output/json_lines.hpp"
#include "sluice/store/store_output.hpp"

namespace sluice::cli {
namespace {

constexpr Logger logger("run");

constexpr const char* run_usage =
    "usage: sluice run --config FILE [--log-level LEVEL]\n"
    "\n"
    "Runs the appliance as configured (see config/sluice.toml for every key and its default).\n"
    "Signals: SIGINT/SIGTERM stop and drain; SIGHUP reloads the rules.\n";

}  // namespace

int run_command(int argc, char** argv) {
  std::string config_path;
  std::string log_level_override;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if ((a == "--config" || a == "-c") && i + 1 < argc) {
      config_path = argv[++i];
    } else if (a == "--log-level" && i + 1 < argc) {
      log_level_override = argv[++i];
    } else if (a == "--help" || a == "-h") {
      std::fputs(run_usage, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "sluice run: unexpected argument '%s'\n%s", argv[i], run_usage);
      return 2;
    }
  }
  if (config_path.empty()) {
    std::fputs(run_usage, stderr);
    return 2;
  }
  auto loaded = load_config(config_path);
  if (!loaded) {
    std::fprintf(stderr, "sluice run: configuration errors:\n%s\n", loaded.error().message.c_str());
    return 2;
  }
  Config config = std::move(loaded).value();
  if (!log_level_override.empty()) config.general.log_level = log_level_override;
  LogLevel level = LogLevel::info;
  if (!parse_log_level(config.general.log_level, level)) {
    std::fprintf(stderr, "sluice run: bad log level '%s'\n", config.general.log_level.c_str());
    return 2;
  }
  set_log_level(level);

  // Signals go to the main thread's loop below, never to pipeline threads.
  block_signals();

  MetricsRegistry metrics;
  PipelineConfig pc;
  pc.workers = config.general.workers;
  pc.pin_cpus = config.general.pin_cpus;
  pc.batch_size = config.general.batch_size;
  pc.ring_capacity = config.general.ring_capacity;
  pc.parser = config.parser;
  Pipeline pipeline(pc, metrics);

  for (const auto& input : config.inputs) {
    auto sources = make_sources(input.spec);
    if (!sources) {
      std::fprintf(stderr, "sluice run: %s:%d: input '%s': %s\n", config_path.c_str(), input.line,
                   input.spec.kind.c_str(), sources.error().message.c_str());
      return 2;
    }
    for (auto& s : sources.value())
      pipeline.add_source(std::move(s));
  }

  register_accelerators();  // the DPDK capture backend, when built
  if (auto captured = make_capture_sources(config.capture, metrics); !captured) {
    std::fprintf(stderr, "sluice run: %s: %s\n", config_path.c_str(),
                 captured.error().message.c_str());
    return 2;
  } else {
    for (auto& s : captured.value())
      pipeline.add_source(std::move(s));
  }

  std::shared_ptr<const RuleSet> rules;
  if (!config.rules.paths.empty()) {
    auto r = load_rules(config.rules, false);
    if (!r) {
      std::fprintf(stderr, "sluice run: rules: %s\n", r.error().message.c_str());
      return 2;
    }
    rules = r.value();
    pipeline.set_rules(rules);
  }

  std::shared_ptr<const rules::CorrelationSet> correlations;
  if (rules && config.correlation.enabled) {
    auto c = load_correlation_rules(config.rules, rules);
    if (!c) {
      std::fprintf(stderr, "sluice run: correlation: %s\n", c.error().message.c_str());
      return 2;
    }
    if (!c.value()->specs().empty()) correlations = c.value();
  }

  if (auto added = add_json_output(pipeline, JsonLinesKind::events, config.output.events_path);
      !added) {
    std::fprintf(stderr, "sluice run: %s\n", added.error().message.c_str());
    return 1;
  }
  if (!config.output.alerts_path.empty()) {
    auto out = JsonLinesOutput::open(JsonLinesKind::alerts, config.output.alerts_path);
    if (!out) {
      std::fprintf(stderr, "sluice run: %s\n", out.error().message.c_str());
      return 1;
    }
    // Base alerts obey `generate`: rules that only feed correlations raise none of their own.
    if (correlations)
      pipeline.add_output(
          std::make_unique<rules::GeneratingOutput>(std::move(out).value(), correlations));
    else
      pipeline.add_output(std::move(out).value());
  }

  // The store comes before correlation: alerts then reference events by store sequence number.
  StoreOutput* store = nullptr;
  if (config.store_enabled) {
    auto added = add_store(pipeline, config.store, &metrics);
    if (!added) {
      std::fprintf(stderr, "sluice run: %s\n", added.error().message.c_str());
      return 1;
    }
    store = added.value();
  }

  // Correlation and alert handling: correlation and anomaly alerts (and, with [[alerts.sink]] or
  // a store, every base alert) go through suppression, dedup and throttling to the sinks and
  // the store's alert log. Without sinks, they go to output.alerts.path next to the base alerts.
  std::optional<CorrelationWiring> wiring;
  if (wants_alert_handling(correlations != nullptr, !config.alerts.sinks.empty(),
                           !config.anomaly.model.empty(), rules != nullptr, store != nullptr)) {
    if (!correlations) {
      rules::LoadReport none;
      auto empty = rules::load_correlations({}, {}, rules, none);
      if (!empty) {
        std::fprintf(stderr, "sluice run: correlation: %s\n", empty.error().message.c_str());
        return 2;
      }
      correlations = empty.value();
    }
    AlertsConfig alerts = config.alerts;
    const bool handle_detections = !alerts.sinks.empty() || store != nullptr;
    if (alerts.sinks.empty() && !config.output.alerts_path.empty()) {
      AlertSinkConfig sink;
      sink.type = config.output.alerts_path == "-" ? "stdout" : "jsonl";
      sink.path = config.output.alerts_path;
      sink.detections = false;  // the detection output writes base alerts to that file
      alerts.sinks.push_back(sink);
    }
    if (alerts.sinks.empty() && store == nullptr)
      logger.warn(
          "correlation and anomaly alerts have no destination: configure [[alerts.sink]], "
          "[output.alerts] or [store]; they are only counted");
    std::string snapshot_dir = config.correlation.data_dir;
    if (snapshot_dir.empty() && config.store_enabled) snapshot_dir = config.store.path;
    CorrelationSettings settings = config.correlation;
    if (!config.anomaly.model.empty()) fit_tolerance_to_anomaly(settings);
    auto w = add_correlation(pipeline, correlations, settings, alerts, handle_detections,
                             snapshot_dir, &metrics, store);
    if (!w) {
      std::fprintf(stderr, "sluice run: %s\n", w.error().message.c_str());
      return 1;
    }
    wiring = std::move(w).value();
    wiring->output->set_drain_when_quiet(true);
  }
  auto anomaly = add_anomaly_stage(pipeline, config.templates, config.anomaly, &metrics);
  if (!anomaly) {
    std::fprintf(stderr, "sluice run: %s\n", anomaly.error().message.c_str());
    return 1;
  }
  if (wiring) wiring->output->set_anomaly_stage(anomaly.value());

  if (auto started = pipeline.start(); !started) {
    std::fprintf(stderr, "sluice run: cannot start: %s\n", started.error().message.c_str());
    return 1;
  }

  std::unique_ptr<MetricsServer> metrics_server;
  if (!config.metrics.listen.empty()) {
    auto server = MetricsServer::start(config.metrics.listen, metrics);
    if (!server) {
      std::fprintf(stderr, "sluice run: %s\n", server.error().message.c_str());
      pipeline.request_stop();
      pipeline.wait();
      return 1;
    }
    metrics_server = std::move(server).value();
  }

  std::string banner = "sluice run: started; inputs:";
  for (std::size_t i = 0; i < pipeline.source_count(); ++i)
    banner += " " + pipeline.source(i).describe() + ";";
  banner += " outputs:";
  for (const auto& d : pipeline.output_descriptions())
    banner += " " + d + ";";
  if (pipeline.output_descriptions().empty()) banner += " none;";
  banner += fmt::format(" rules: {}", rules ? rules->rule_count() : 0);
  if (metrics_server) banner += "; metrics: " + metrics_server->url();
  std::fprintf(stderr, "%s\n", banner.c_str());

  const auto interval_ms =
      static_cast<std::int64_t>(config.general.summary_interval_seconds * 1000.0);
  auto last_summary = std::chrono::steady_clock::now();
  PipelineStats last_stats = pipeline.stats();
  bool stopping = false;
  while (!pipeline.finished()) {
    const int sig = wait_for_signal(100);
    if ((sig == SIGINT || sig == SIGTERM) && !stopping) {
      logger.info("{} received: stopping inputs and draining", strsignal(sig));
      pipeline.request_stop();
      stopping = true;
    } else if (sig == SIGHUP) {
      if (config.rules.paths.empty()) {
        logger.info("SIGHUP: no rules configured, nothing to reload");
      } else if (auto r = load_rules(config.rules, false); r) {
        // Correlation rules name base rules by index, so the new base rules come with their
        // own correlation set, adopted before the pipeline switches: the correlation output
        // then follows the batches (state of unchanged correlation rules is kept).
        // With correlation off, alert handling (store, sinks, anomaly) still runs on an empty
        // set, which has to follow the new base rules too.
        std::shared_ptr<const rules::CorrelationSet> next;
        if (wiring) {
          auto c =
              config.correlation.enabled ? load_correlation_rules(config.rules, r.value()) : [&] {
                rules::LoadReport none;
                return rules::load_correlations({}, {}, r.value(), none);
              }();
          if (c)
            next = c.value();
          else
            logger.error("SIGHUP: correlation rules: {}", c.error().message);
        }
        if (!wiring && config.correlation.enabled) {
          // Alert handling is part of the pipeline built at start; it cannot be added to a
          // running one. Say so rather than leave new correlation rules silently idle.
          if (auto c = load_correlation_rules(config.rules, r.value());
              c && !c.value()->specs().empty())
            logger.warn(
                "SIGHUP: {} correlation rules found, but correlation was not started (no "
                "correlation rules, alert sinks, store or anomaly model at start); restart "
                "sluice to apply them",
                c.value()->specs().size());
        }
        if (wiring && !next) {
          logger.error("SIGHUP: reload failed, keeping the current rules");
        } else {
          if (next) wiring->output->adopt(next);
          rules = r.value();
          pipeline.set_rules(rules);
          logger.info("SIGHUP: reloaded {} rules, {} correlation rules", rules->rule_count(),
                      next ? next->specs().size() : 0);
        }
      } else {
        logger.error("SIGHUP: reload failed, keeping the current rules: {}", r.error().message);
      }
    }
    const auto now = std::chrono::steady_clock::now();
    const auto elapsed_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now - last_summary).count();
    if (interval_ms > 0 && elapsed_ms >= interval_ms) {
      auto stats = pipeline.stats();
      std::fprintf(stderr, "sluice: %s\n",
                   summary_line(stats, last_stats, static_cast<double>(elapsed_ms) / 1000).c_str());
      last_stats = stats;
      last_summary = now;
    }
  }
  pipeline.wait();
  // The anomaly stage scores its open windows first, so their alerts reach alert handling.
  const bool anomaly_ok = finish_anomaly_stage(anomaly->get(), "sluice run");
  if (wiring) {
    wiring->output->deliver_anomaly_alerts();
    if (auto r = wiring->output->snapshot(); !r)
      logger.error("correlation snapshot: {}", r.error().message);
    wiring->handler->flush();
    std::fprintf(stderr, "sluice run: %s\n", correlation_summary(*wiring).c_str());
  }
  metrics_server.reset();
  const auto stats = pipeline.stats();
  std::fprintf(stderr, "sluice run: stopped; %s\n",
               summary_line(stats, PipelineStats{}, stats.seconds).c_str());
  for (const auto& d : pipeline.output_descriptions())
    std::fprintf(stderr, "sluice run: wrote %s\n", d.c_str());
  if (store != nullptr) {
    // Seal now (the pipeline has stopped), so the summary shows the sealed, compressed size.
    if (auto closed = store->close(); !closed)
      std::fprintf(stderr, "sluice run: store: %s\n", closed.error().message.c_str());
    std::fprintf(stderr, "sluice run: store: %s\n", store->summary().c_str());
  }
  std::fprintf(stderr, "%s\n", stats.to_json().c_str());
  return anomaly_ok ? 0 : 1;
}

}  // namespace sluice::cli
