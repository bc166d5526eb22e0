// SPDX-License-Identifier: Apache-2.0
/// `sluice scan [options] INPUT...`: offline. Log files, pcaps or stdin in, JSON lines out:
/// alerts when rules are given, otherwise every event. With `--stats` the last stderr line is one
/// JSON object with the counters.
#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "anomaly_setup.hpp"
#include "app.hpp"
#include "commands.hpp"
#include "sluice/common/log.hpp"
#include "sluice/output/json_lines.hpp"
#include "sluice/store/store_output.hpp"

namespace sluice::cli {
namespace {

constexpr const char* scan_usage =
    "usage: sluice scan [options] INPUT...\n"
    "\n"
    "INPUT is a log file, a pcap/pcapng file (detected by its magic number) or - for stdin.\n"
    "\n"
    "options:\n"
    "  --input-format F     auto (default), rfc3164, rfc5424, json, cef, raw\n"
    "  --rules PATH         Sigma rule file or folder (repeatable)\n"
    "  --rules-mapping FILE field-mapping file (default: the shipped one)\n"
    "  --min-level LEVEL    load only rules at or above LEVEL\n"
    "  --output WHAT        alerts (default with --rules or --anomaly-model), events (default\n"
    "                       without), all, none\n"
    "  --out FILE           where JSON lines go (default: stdout)\n"
    "  --store DIR          also keep every event in the event store in DIR\n"
    "  --store-codec C      codec of the store's sealed blocks: zstd (default) or lz4\n"
    "  --no-correlation     ignore correlation rules among the rules\n"
    "  --tolerance SECONDS  correlation: accepted out-of-order lateness (default 5)\n"
    "  --stats              print counters as one JSON object, the last line on stderr\n"
    "  --no-flows           pcaps: syslog only, no flow records\n"
    "  --workers N          worker threads (default: one per core)\n"
    "  --batch-size N       records per batch (default 512)\n"
    "  --ring-capacity N    batches per ring, a power of two (default 64)\n"
    "  --templates          mine a template id for every event (output and stored)\n"
    "  --template-table F   template table: loaded when present, saved after\n"
    "  --anomaly-model F    score windows with this model ('sluice anomaly train'); implies\n"
    "                       --templates\n"
    "  --anomaly-alerts F   also write each anomalous window to F as one JSON line (by default\n"
    "                       anomaly alerts go through correlation and alert handling to --out\n"
    "                       with the other alerts, and to the --store alert log)\n"
    "  --anomaly-backend B  auto (default), cpu or cuda\n"
    "  --anomaly-entity F,F fields that name the entity (default host)\n"
    "  --anomaly-window S   window length in seconds (default 60)\n";

bool parse_size(const char* text, std::size_t& out) {
  const std::string_view s(text);
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && ptr == s.data() + s.size();
}

/// True when the file starts with a pcap or pcapng magic number.
bool looks_like_pcap(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  unsigned char m[4] = {};
  const auto n = ::read(fd, m, 4);
  ::close(fd);
  if (n != 4) return false;
  const std::uint32_t le = m[0] | (m[1] << 8) | (m[2] << 16) | (std::uint32_t{m[3]} << 24);
  return le == 0xa1b2c3d4 || le == 0xd4c3b2a1 || le == 0xa1b23c4d || le == 0x4d3cb2a1 ||
         le == 0x0a0d0d0a;
}

}  // namespace

int scan_command(int argc, char** argv) {
  PipelineConfig pc;
  RulesConfig rules_config;
  std::string output_kind;
  std::string out_path = "-";
  bool stats_wanted = false;
  bool flows = true;
  std::string store_path;
  std::string store_codec = StoreConfig{}.codec;
  std::vector<std::string> inputs;
  bool correlation_wanted = true;
  CorrelationSettings correlation;
  TemplatesConfig templates_config;
  AnomalyConfig anomaly_config;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto need_value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "sluice scan: %s needs a value\n", name);
        return nullptr;
      }
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::fputs(scan_usage, stdout);
      return 0;
    } else if (a == "--input-format") {
      const char* v = need_value("--input-format");
      if (v == nullptr) return 2;
      if (!parse_format_name(v, pc.parser.format)) {
        std::fprintf(stderr, "sluice scan: unknown input format '%s'\n", v);
        return 2;
      }
    } else if (a == "--rules") {
      const char* v = need_value("--rules");
      if (v == nullptr) return 2;
      rules_config.paths.emplace_back(v);
    } else if (a == "--rules-mapping") {
      const char* v = need_value("--rules-mapping");
      if (v == nullptr) return 2;
      rules_config.mapping = v;
    } else if (a == "--min-level") {
      const char* v = need_value("--min-level");
      if (v == nullptr) return 2;
      rules_config.min_level = v;
    } else if (a == "--output") {
      const char* v = need_value("--output");
      if (v == nullptr) return 2;
      output_kind = v;
      if (output_kind != "alerts" && output_kind != "events" && output_kind != "all" &&
          output_kind != "none") {
        std::fprintf(stderr, "sluice scan: --output is alerts, events, all or none\n");
        return 2;
      }
    } else if (a == "--out") {
      const char* v = need_value("--out");
      if (v == nullptr) return 2;
      out_path = v;
    } else if (a == "--store") {
      const char* v = need_value("--store");
      if (v == nullptr) return 2;
      store_path = v;
    } else if (a == "--store-codec") {
      const char* v = need_value("--store-codec");
      if (v == nullptr) return 2;
      store_codec = v;
    } else if (a == "--stats") {
      stats_wanted = true;
    } else if (a == "--no-correlation") {
      correlation_wanted = false;
    } else if (a == "--tolerance") {
      const char* v = need_value("--tolerance");
      char* end = nullptr;
      const double seconds = v ? std::strtod(v, &end) : -1;
      if (v == nullptr || *end != '\0' || seconds < 0) {
        std::fprintf(stderr, "sluice scan: --tolerance needs seconds >= 0\n");
        return 2;
      }
      correlation.engine.tolerance_ns = static_cast<std::int64_t>(seconds * 1e9);
    } else if (a == "--no-flows") {
      flows = false;
    } else if (a == "--templates") {
      templates_config.enabled = true;
    } else if (a == "--template-table" || a == "--anomaly-model" || a == "--anomaly-alerts" ||
               a == "--anomaly-backend" || a == "--anomaly-entity") {
      const char* v = need_value(argv[i]);
      if (v == nullptr) return 2;
      if (a == "--template-table") templates_config.table = v;
      if (a == "--anomaly-model") anomaly_config.model = v;
      if (a == "--anomaly-alerts") anomaly_config.alerts_path = v;
      if (a == "--anomaly-backend") anomaly_config.backend = v;
      if (a == "--anomaly-entity") {
        anomaly_config.entity.clear();
        std::string_view list(v);
        while (true) {
          const auto comma = list.find(',');
          anomaly_config.entity.emplace_back(list.substr(0, comma));
          if (comma == std::string_view::npos) break;
          list.remove_prefix(comma + 1);
        }
      }
    } else if (a == "--anomaly-window") {
      const char* v = need_value(argv[i]);
      if (v == nullptr || !parse_size(v, anomaly_config.window_seconds) ||
          anomaly_config.window_seconds == 0) {
        std::fprintf(stderr, "sluice scan: --anomaly-window needs a positive number of seconds\n");
        return 2;
      }
    } else if (a == "--workers" || a == "--batch-size" || a == "--ring-capacity") {
      const char* v = need_value(argv[i]);
      std::size_t n = 0;
      if (v == nullptr || !parse_size(v, n) || n == 0) {
        std::fprintf(stderr, "sluice scan: %s needs a positive number\n", argv[i - 1]);
        return 2;
      }
      if (a == "--workers") pc.workers = n;
      if (a == "--batch-size") pc.batch_size = n;
      if (a == "--ring-capacity") {
        if (n < 2 || (n & (n - 1)) != 0) {
          std::fprintf(stderr, "sluice scan: --ring-capacity must be a power of two >= 2\n");
          return 2;
        }
        pc.ring_capacity = n;
      }
    } else if (a.size() > 1 && a[0] == '-') {
      std::fprintf(stderr, "sluice scan: unknown option '%s'\n%s", argv[i], scan_usage);
      return 2;
    } else {
      inputs.emplace_back(a);
    }
  }
  if (inputs.empty()) {
    std::fputs(scan_usage, stderr);
    return 2;
  }
  if (output_kind.empty())
    output_kind = rules_config.paths.empty() && anomaly_config.model.empty() ? "events" : "alerts";

  block_signals();
  MetricsRegistry metrics;
  Pipeline pipeline(pc, metrics);
  for (const auto& path : inputs) {
    SourceSpec spec;
    if (path == "-") {
      spec.kind = "stdin";
    } else {
      spec.kind = looks_like_pcap(path) ? "pcap" : "file";
      spec.path = path;
      // A pcap gives its syslog and, unless --no-flows, a flow record per flow.
      spec.flows = flows;
    }
    auto sources = make_sources(spec);
    if (!sources) {
      std::fprintf(stderr, "sluice scan: %s: %s\n", path.c_str(), sources.error().message.c_str());
      return 1;
    }
    for (auto& s : sources.value())
      pipeline.add_source(std::move(s));
  }
  std::shared_ptr<const rules::CorrelationSet> correlations;
  std::shared_ptr<const RuleSet> rule_set;
  if (!rules_config.paths.empty()) {
    auto r = load_rules(rules_config, false);
    if (!r) {
      std::fprintf(stderr, "sluice scan: rules: %s\n", r.error().message.c_str());
      return 2;
    }
    rule_set = r.value();
    pipeline.set_rules(r.value());
    if (correlation_wanted) {
      auto c = load_correlation_rules(rules_config, r.value());
      if (!c) {
        std::fprintf(stderr, "sluice scan: correlation: %s\n", c.error().message.c_str());
        return 2;
      }
      if (!c.value()->specs().empty()) correlations = c.value();
    }
  }
  const bool alerts_wanted = output_kind == "alerts" || output_kind == "all";
  for (auto [kind, wanted] :
       {std::pair{JsonLinesKind::events, output_kind == "events" || output_kind == "all"},
        std::pair{JsonLinesKind::alerts, alerts_wanted}}) {
    if (!wanted) continue;
    auto out = JsonLinesOutput::open(kind, out_path);
    if (!out) {
      std::fprintf(stderr, "sluice scan: %s\n", out.error().message.c_str());
      return 1;
    }
    // Base alerts obey `generate`: rules that only feed correlations raise none of their own.
    if (kind == JsonLinesKind::alerts && correlations)
      pipeline.add_output(
          std::make_unique<rules::GeneratingOutput>(std::move(out).value(), correlations));
    else
      pipeline.add_output(std::move(out).value());
  }
  // The store comes before correlation: alerts then reference events by store sequence number.
  StoreOutput* store = nullptr;
  if (!store_path.empty()) {
    StoreConfig sc;
    sc.path = store_path;
    sc.codec = store_codec;
    // Offline ingest can be replayed after a crash: sync once a second, not per batch.
    sc.fsync = "interval";
    auto added = add_store(pipeline, sc, nullptr);
    if (!added) {
      std::fprintf(stderr, "sluice scan: %s\n", added.error().message.c_str());
      return 1;
    }
    store = added.value();
  }
  std::optional<CorrelationWiring> wiring;
  if (wants_alert_handling(correlations != nullptr, false, !anomaly_config.model.empty(),
                           rule_set != nullptr, store != nullptr)) {
    if (!correlations) {
      rules::LoadReport none;
      auto empty = rules::load_correlations({}, {}, rule_set, none);
      if (!empty) {
        std::fprintf(stderr, "sluice scan: correlation: %s\n", empty.error().message.c_str());
        return 2;
      }
      correlations = empty.value();
    }
    // Correlation and anomaly alerts go where the base alerts go (--out), after them in each
    // batch; with --store, every alert (base ones included) also goes to its alert log.
    AlertsConfig alerts;
    if (alerts_wanted) {
      AlertSinkConfig sink;
      sink.type = out_path == "-" ? "stdout" : "jsonl";
      sink.path = out_path;
      sink.detections = false;  // the detection output writes base alerts there
      alerts.sinks.push_back(sink);
    }
    if (!anomaly_config.model.empty()) fit_tolerance_to_anomaly(correlation);
    auto w = add_correlation(pipeline, correlations, correlation, alerts, store != nullptr, "",
                             nullptr, store);
    if (!w) {
      std::fprintf(stderr, "sluice scan: %s\n", w.error().message.c_str());
      return 1;
    }
    wiring = std::move(w).value();
  }
  auto anomaly = add_anomaly_stage(pipeline, templates_config, anomaly_config);
  if (!anomaly) {
    std::fprintf(stderr, "sluice scan: %s\n", anomaly.error().message.c_str());
    return 1;
  }
  if (wiring) wiring->output->set_anomaly_stage(anomaly.value());
  if (auto started = pipeline.start(); !started) {
    std::fprintf(stderr, "sluice scan: %s\n", started.error().message.c_str());
    return 1;
  }
  bool stopping = false;
  while (!pipeline.finished()) {
    const int sig = wait_for_signal(50);
    if ((sig == SIGINT || sig == SIGTERM) && !stopping) {
      pipeline.request_stop();
      stopping = true;
    }
  }
  pipeline.wait();
  // The anomaly stage scores its open windows first, so their alerts reach correlation.
  const bool anomaly_ok = finish_anomaly_stage(anomaly->get(), "sluice scan");
  if (wiring) {
    // End of input: every open window is decided now (replay = live, then the stream ends).
    wiring->output->finish();
    std::fprintf(stderr, "sluice scan: %s\n", correlation_summary(*wiring).c_str());
  }
  if (store != nullptr) {
    // Seal now (the pipeline has stopped), so the summary shows the sealed, compressed size.
    if (auto closed = store->close(); !closed)
      std::fprintf(stderr, "sluice scan: store: %s\n", closed.error().message.c_str());
    std::fprintf(stderr, "sluice scan: store: %s\n", store->summary().c_str());
  }
  if (stats_wanted) std::fprintf(stderr, "%s\n", pipeline.stats().to_json().c_str());
  return anomaly_ok ? 0 : 1;
}

}  // namespace sluice::cli
