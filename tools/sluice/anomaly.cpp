// SPDX-License-Identifier: Apache-2.0
/// `sluice anomaly train|score|eval`: train the anomaly model on a baseline (log files, the event
/// store, or template-id sessions), apply it (alerts as JSON lines), and evaluate it on the
/// labelled data in the shared data folder (DeepLog's HDFS sessions, BGL_2k's alert lines).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "accelerators.hpp"
#include "anomaly_setup.hpp"
#include "commands.hpp"
#include "sluice/anomaly/anomaly_model.hpp"
#include "sluice/anomaly/detector.hpp"
#include "sluice/anomaly/features.hpp"
#include "sluice/anomaly/scorer.hpp"
#include "sluice/anomaly/template_miner.hpp"
#include "sluice/event/event_batch.hpp"
#include "sluice/parse/parser.hpp"
#include "sluice/parse/timestamp.hpp"
#include "sluice/store/segment_reader.hpp"

namespace sluice::cli {
namespace {

constexpr const char* anomaly_usage =
    "usage: sluice anomaly train [input] [options] --model FILE\n"
    "       sluice anomaly score [input] [options] --model FILE\n"
    "       sluice anomaly eval --deeplog DIR | --bgl FILE [options]\n"
    "\n"
    "input (one of):\n"
    "  FILE...              log files (- for stdin), parsed as by 'sluice scan', templates mined\n"
    "  --store DIR          events of the event store in DIR (with --from / --to)\n"
    "  --sessions FILE      one window per line: template ids separated by spaces (DeepLog)\n"
    "\n"
    "options:\n"
    "  --model FILE         the model to write (train) or read (score)\n"
    "  --table FILE         template table: loaded when present, saved after (default:\n"
    "                       MODEL.templates)\n"
    "  --from T, --to T     event-time range for --store (RFC 3339 or Unix seconds)\n"
    "  --entity F,F...      fields that name the entity (default host)\n"
    "  --window SECONDS     tumbling window length (default 60)\n"
    "  --variance X         PCA variance kept (default 0.95)\n"
    "  --alpha X            Q-statistic false-alarm rate (default 0.001)\n"
    "  --rare-share X       templates in at most this share of windows are rare (default 0)\n"
    "  --known-windows N    distinct baseline windows remembered as normal (default 100000;\n"
    "                       0 = PCA residual alone)\n"
    "  --backend B          auto (default), cpu or cuda\n"
    "\n"
    "eval options:\n"
    "  --deeplog DIR        hdfs_train (normal) and hdfs_test_abnormal sessions\n"
    "  --train-share X      share of the normal sessions trained on (default 0.5)\n"
    "  --seeds N            random splits and samples (default 5)\n"
    "  --rate X             anomaly rate of the natural-rate test (default 0.03)\n"
    "  --bgl FILE           BGL_2k.log: train on the normal lines of the first half, score\n"
    "                       every line of the second half\n";

struct Options {
  std::string mode;
  std::vector<std::string> files;
  std::string store;
  std::string sessions;
  std::string model_path;
  std::string table_path;
  std::int64_t from_ns = INT64_MIN;
  std::int64_t to_ns = INT64_MAX;
  FeatureConfig features;
  ModelConfig model;
  std::string backend = "auto";
  std::string deeplog;
  std::string bgl;
  double train_share = 0.5;
  std::size_t seeds = 5;
  double rate = 0.03;
};

bool parse_number(const char* text, double& out) {
  char* end = nullptr;
  out = std::strtod(text, &end);
  return end && *end == '\0' && end != text && std::isfinite(out);
}

bool parse_time(const char* text, std::int64_t& out) {
  double seconds = 0;
  if (parse_number(text, seconds)) {
    out = static_cast<std::int64_t>(seconds * 1e9);
    return true;
  }
  ParsedTime t;
  const std::string_view s(text);
  if (scan_rfc3339(s, 0, true, t) != s.size()) return false;
  out = t.utc_ns;
  return true;
}

int usage_error(const std::string& message) {
  std::fprintf(stderr, "sluice anomaly: %s\n", message.c_str());
  return 2;
}

/// Reads DeepLog-style sessions: each line is one window of template ids.
Result<std::vector<FeatureRow>> read_sessions(const std::string& path, const std::string& prefix) {
  std::ifstream in(path);
  if (!in) return Error::from_errno("cannot open " + path);
  std::vector<FeatureRow> rows;
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    std::istringstream ss(line);
    FeatureRow row;
    row.entity = prefix + std::to_string(line_no);
    std::vector<std::uint32_t> ids;
    for (std::string w; ss >> w;) {
      char* end = nullptr;
      const unsigned long v = std::strtoul(w.c_str(), &end, 10);
      if (!end || *end != '\0' || v == 0 || v > UINT32_MAX) {
        std::string message = path;
        message.append(":").append(std::to_string(line_no)).append(": not a template id: '");
        message.append(w).append("'");
        return Error{std::move(message)};
      }
      ids.push_back(static_cast<std::uint32_t>(v));
    }
    if (ids.empty()) continue;
    std::sort(ids.begin(), ids.end());
    for (std::size_t i = 0; i < ids.size();) {
      std::size_t j = i;
      while (j < ids.size() && ids[j] == ids[i])
        ++j;
      row.counts.emplace_back(ids[i], static_cast<std::uint32_t>(j - i));
      i = j;
    }
    row.events = static_cast<std::uint32_t>(ids.size());
    rows.push_back(std::move(row));
  }
  return rows;
}

/// Parses log files, mines templates, and windows the events per entity.
Result<std::vector<FeatureRow>> rows_from_logs(const std::vector<std::string>& files,
                                               TemplateMiner& miner, const FeatureConfig& fc) {
  Parser parser;
  MinerScratch scratch;
  WindowAggregator agg(fc);
  std::string key;
  const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  for (const auto& file : files) {
    std::ifstream file_in;
    std::istream* in = &std::cin;
    if (file != "-") {
      file_in.open(file);
      if (!file_in) return Error::from_errno("cannot open " + file);
      in = &file_in;
    }
    EventBatch batch;
    std::string line;
    while (std::getline(*in, line)) {
      batch.clear();
      Event& e = batch.add_record(line, now);
      parser.parse(e, batch.arena());
      const std::string_view text = e.message.empty() ? e.raw : e.message;
      const std::uint32_t id = miner.mine(text, scratch).id;
      entity_key(e, fc.entity_fields, key);
      agg.add(key, e.event_time_ns ? e.event_time_ns : now, id);
    }
  }
  std::vector<FeatureRow> rows;
  FeatureBatch out(fc.max_batch_rows);
  while (agg.drain_all(out) > 0) {
    for (const auto& r : out.rows())
      rows.push_back(r);
    out.clear();
  }
  return rows;
}

/// Reads stored events in [from, to); events stored without a template id are mined now.
Result<std::vector<FeatureRow>> rows_from_store(const Options& o, TemplateMiner& miner) {
  auto reader = StoreReader::open(o.store);
  if (!reader) return reader.error();
  Arena arena;
  MinerScratch scratch;
  WindowAggregator agg(o.features);
  std::string key;
  std::vector<FeatureRow> rows;
  FeatureBatch out(o.features.max_batch_rows);
  const ScanReport report = reader->for_each(arena, [&](const StoredEvent& s) {
    const Event& e = s.event;
    if (e.event_time_ns < o.from_ns || e.event_time_ns >= o.to_ns) return true;
    std::uint32_t id = e.template_id;
    if (id == 0) id = miner.mine(e.message.empty() ? e.raw : e.message, scratch).id;
    entity_key(e, o.features.entity_fields, key);
    agg.add(key, e.event_time_ns, id);
    return true;
  });
  for (const auto& err : report.errors)
    std::fprintf(stderr, "sluice anomaly: store: %s\n", err.message.c_str());
  while (agg.drain_all(out) > 0) {
    for (const auto& r : out.rows())
      rows.push_back(r);
    out.clear();
  }
  return rows;
}

std::string table_for(const Options& o) {
  return o.table_path.empty() ? o.model_path + ".templates" : o.table_path;
}

Result<std::vector<FeatureRow>> read_input(const Options& o, TemplateMiner& miner) {
  const int inputs = !o.files.empty() + !o.store.empty() + !o.sessions.empty();
  if (inputs != 1) return Error{"give exactly one input: FILE..., --store DIR or --sessions FILE"};
  if (!o.sessions.empty()) return read_sessions(o.sessions, "session:");
  const std::string table = table_for(o);
  if (std::filesystem::exists(table))
    if (auto r = miner.load(table); !r) return r.error();
  auto rows =
      o.store.empty() ? rows_from_logs(o.files, miner, o.features) : rows_from_store(o, miner);
  if (!rows) return rows;
  if (auto r = miner.save(table); !r) return r.error();
  return rows;
}

int train(const Options& o) {
  if (o.model_path.empty()) return usage_error("train needs --model FILE");
  TemplateMiner miner;
  auto rows = read_input(o, miner);
  if (!rows) {
    std::fprintf(stderr, "sluice anomaly: %s\n", rows.error().message.c_str());
    return 1;
  }
  auto model = AnomalyModel::train(*rows, o.model);
  if (!model) {
    std::fprintf(stderr, "sluice anomaly: %s\n", model.error().message.c_str());
    return 1;
  }
  if (auto r = model->save(o.model_path); !r) {
    std::fprintf(stderr, "sluice anomaly: %s\n", r.error().message.c_str());
    return 1;
  }
  std::fprintf(stderr,
               "sluice anomaly: trained on %zu windows: %zu templates, %zu components, SPE "
               "threshold %.6g; model in %s\n",
               rows->size(), model->dimension(), model->components(), model->spe_threshold(),
               o.model_path.c_str());
  return 0;
}

int score(const Options& o) {
  if (o.model_path.empty()) return usage_error("score needs --model FILE");
  auto model = AnomalyModel::load(o.model_path);
  if (!model) {
    std::fprintf(stderr, "sluice anomaly: %s\n", model.error().message.c_str());
    return 1;
  }
  TemplateMiner miner;
  auto rows = read_input(o, miner);
  if (!rows) {
    std::fprintf(stderr, "sluice anomaly: %s\n", rows.error().message.c_str());
    return 1;
  }
  register_accelerators();
  auto choice = make_scorer(o.backend, *model);
  if (!choice) {
    std::fprintf(stderr, "sluice anomaly: %s\n", choice.error().message.c_str());
    return 1;
  }
  AnomalyDetector detector(*model, std::move(choice->scorer));
  FeatureBatch batch(o.features.max_batch_rows);
  std::vector<AnomalyAlert> alerts;
  std::string out;
  const TemplateMiner* names = o.sessions.empty() ? &miner : nullptr;
  for (std::size_t i = 0; i < rows->size();) {
    batch.clear();
    while (i < rows->size() && !batch.full())
      batch.push((*rows)[i++]);
    alerts.clear();
    if (auto r = detector.score(batch, alerts); !r) {
      std::fprintf(stderr, "sluice anomaly: %s\n", r.error().message.c_str());
      return 1;
    }
    for (const auto& a : alerts) {
      append_anomaly_alert_json(out, a, names);
      out.push_back('\n');
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    out.clear();
  }
  return std::fflush(stdout) == 0 ? 0 : 1;
}

struct Counts {
  std::size_t tp = 0, fp = 0, fn = 0, tn = 0;
  double precision() const { return tp + fp ? static_cast<double>(tp) / (tp + fp) : 0; }
  double recall() const { return tp + fn ? static_cast<double>(tp) / (tp + fn) : 0; }
  double f1() const {
    const double p = precision(), r = recall();
    return p + r > 0 ? 2 * p * r / (p + r) : 0;
  }
};

/// Scores `rows` and counts each as flagged or not against `anomalous`.
Result<Counts> evaluate(AnomalyDetector& detector, const std::vector<FeatureRow>& rows,
                        const std::vector<bool>& anomalous) {
  Counts c;
  FeatureBatch batch(4096);
  std::vector<AnomalyAlert> alerts;
  std::vector<bool> flagged;
  for (std::size_t i = 0; i < rows.size();) {
    const std::size_t first = i;
    batch.clear();
    while (i < rows.size() && !batch.full())
      batch.push(rows[i++]);
    alerts.clear();
    if (auto r = detector.score(batch, alerts); !r) return r.error();
    flagged.assign(batch.size(), false);
    // Alerts name their row by entity, which is unique per row in an evaluation.
    std::size_t k = 0;
    for (const auto& a : alerts) {
      while (k < batch.size() && batch.rows()[k].entity != a.entity)
        ++k;
      if (k < batch.size()) flagged[k] = true;
    }
    for (std::size_t j = 0; j < batch.size(); ++j) {
      const bool truth = anomalous[first + j];
      if (flagged[j] && truth) ++c.tp;
      if (flagged[j] && !truth) ++c.fp;
      if (!flagged[j] && truth) ++c.fn;
      if (!flagged[j] && !truth) ++c.tn;
    }
  }
  return c;
}

struct Summary {
  std::vector<double> p, r, f;
  void add(const Counts& c) {
    p.push_back(c.precision());
    r.push_back(c.recall());
    f.push_back(c.f1());
  }
  static std::string stat(const std::vector<double>& v) {
    const double mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
    double var = 0;
    for (double x : v)
      var += (x - mean) * (x - mean);
    const double sd = v.size() > 1 ? std::sqrt(var / static_cast<double>(v.size() - 1)) : 0;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.4f ± %.4f", mean, sd);
    return buf;
  }
};

int eval_deeplog(const Options& o) {
  const std::filesystem::path dir(o.deeplog);
  auto normal = read_sessions((dir / "hdfs_train").string(), "normal:");
  auto abnormal = read_sessions((dir / "hdfs_test_abnormal").string(), "abnormal:");
  if (!normal || !abnormal) {
    std::fprintf(stderr, "sluice anomaly: %s\n",
                 (!normal ? normal.error() : abnormal.error()).message.c_str());
    return 1;
  }
  register_accelerators();
  const std::size_t n_train =
      static_cast<std::size_t>(std::llround(o.train_share * static_cast<double>(normal->size())));
  if (n_train < 2 || n_train >= normal->size())
    return usage_error("--train-share leaves no training or no test sessions");
  const std::size_t n_test = normal->size() - n_train;
  const std::size_t n_natural =
      static_cast<std::size_t>(std::llround(static_cast<double>(n_test) * o.rate / (1 - o.rate)));
  std::printf(
      "HDFS (DeepLog sessions): %zu normal, %zu anomalous. Per seed: train on %zu random normal "
      "sessions (%.0f%%), test on the other %zu normal sessions plus anomalous ones: %zu sampled "
      "(natural rate %.1f%%), %zu sampled (balanced), all %zu.\n",
      normal->size(), abnormal->size(), n_train, o.train_share * 100, n_test, n_natural,
      o.rate * 100, std::min(n_test, abnormal->size()), abnormal->size());
  Summary natural, balanced, all;
  std::string backend_name;
  for (std::size_t seed = 1; seed <= o.seeds; ++seed) {
    std::mt19937_64 rng(seed);
    std::vector<std::size_t> order(normal->size());
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    std::vector<FeatureRow> train_rows, test_normal;
    for (std::size_t i = 0; i < order.size(); ++i)
      (i < n_train ? train_rows : test_normal).push_back((*normal)[order[i]]);
    auto model = AnomalyModel::train(train_rows, o.model);
    if (!model) {
      std::fprintf(stderr, "sluice anomaly: %s\n", model.error().message.c_str());
      return 1;
    }
    auto choice = make_scorer(o.backend, *model);
    if (!choice) {
      std::fprintf(stderr, "sluice anomaly: %s\n", choice.error().message.c_str());
      return 1;
    }
    backend_name = std::string(choice->scorer->name());
    AnomalyDetector detector(*model, std::move(choice->scorer));
    std::vector<std::size_t> ab(abnormal->size());
    std::iota(ab.begin(), ab.end(), 0);
    std::shuffle(ab.begin(), ab.end(), rng);
    auto run = [&](std::size_t n_anomalous, Summary& s) -> bool {
      std::vector<FeatureRow> rows = test_normal;
      std::vector<bool> truth(rows.size(), false);
      for (std::size_t i = 0; i < n_anomalous; ++i) {
        rows.push_back((*abnormal)[ab[i]]);
        truth.push_back(true);
      }
      auto c = evaluate(detector, rows, truth);
      if (!c) {
        std::fprintf(stderr, "sluice anomaly: %s\n", c.error().message.c_str());
        return false;
      }
      s.add(*c);
      return true;
    };
    if (!run(n_natural, natural) || !run(std::min(n_test, ab.size()), balanced) ||
        !run(ab.size(), all))
      return 1;
    if (seed == 1)
      std::printf("seed 1 model: %zu templates, %zu components, SPE threshold %.6g\n",
                  model->dimension(), model->components(), model->spe_threshold());
  }
  std::printf("backend %s, %zu seeds (mean ± sd)\n", backend_name.c_str(), o.seeds);
  std::printf("%-22s %-18s %-18s %-18s\n", "test set", "precision", "recall", "F1");
  auto line = [](const char* name, const Summary& s) {
    std::printf("%-22s %-18s %-18s %-18s\n", name, Summary::stat(s.p).c_str(),
                Summary::stat(s.r).c_str(), Summary::stat(s.f).c_str());
  };
  char name[64];
  std::snprintf(name, sizeof name, "natural (%.0f%%)", o.rate * 100);
  line(name, natural);
  line("balanced (50%)", balanced);
  line("all anomalous", all);
  return 0;
}

/// BGL_2k: line labels. Each line is a window of one event (entity = the node); the first
/// token is the label ("-" normal) and is removed before mining.
int eval_bgl(const Options& o) {
  std::ifstream in(o.bgl);
  if (!in) {
    std::fprintf(stderr, "sluice anomaly: cannot open %s: %s\n", o.bgl.c_str(),
                 std::strerror(errno));
    return 1;
  }
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);)
    lines.push_back(l);
  TemplateMiner miner;
  MinerScratch scratch;
  std::vector<FeatureRow> rows;
  std::vector<bool> truth;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    const auto space = l.find(' ');
    const std::string_view label = std::string_view(l).substr(0, space);
    const std::string_view rest =
        space == std::string::npos ? std::string_view{} : std::string_view(l).substr(space + 1);
    FeatureRow row;
    row.entity = "line:" + std::to_string(i + 1);
    row.events = 1;
    row.counts.emplace_back(miner.mine(rest, scratch).id, 1);
    rows.push_back(std::move(row));
    truth.push_back(label != "-");
  }
  register_accelerators();
  const std::size_t alert_lines =
      static_cast<std::size_t>(std::count(truth.begin(), truth.end(), true));
  std::printf("BGL_2k: %zu lines, %zu alert lines; one window per line (its template)\n",
              rows.size(), alert_lines);
  // Trains on `train` (normal lines only) and scores `test`.
  auto run = [&](const std::vector<FeatureRow>& train, const std::vector<FeatureRow>& test,
                 const std::vector<bool>& test_truth) -> Result<Counts> {
    auto model = AnomalyModel::train(train, o.model);
    if (!model) return model.error();
    auto choice = make_scorer(o.backend, *model);
    if (!choice) return choice.error();
    AnomalyDetector detector(*model, std::move(choice->scorer));
    return evaluate(detector, test, test_truth);
  };
  // Chronological: the normal lines of the first half train, the second half is scored.
  {
    const std::size_t half = rows.size() / 2;
    std::vector<FeatureRow> train;
    for (std::size_t i = 0; i < half; ++i)
      if (!truth[i]) train.push_back(rows[i]);
    std::vector<FeatureRow> test(rows.begin() + static_cast<std::ptrdiff_t>(half), rows.end());
    std::vector<bool> test_truth(truth.begin() + static_cast<std::ptrdiff_t>(half), truth.end());
    auto c = run(train, test, test_truth);
    if (!c) {
      std::fprintf(stderr, "sluice anomaly: %s\n", c.error().message.c_str());
      return 1;
    }
    std::printf(
        "chronological: train on the %zu normal lines of the first %zu, score the last %zu "
        "(%zu alert lines)\n  precision %.4f recall %.4f F1 %.4f (tp %zu fp %zu fn %zu tn %zu)\n",
        train.size(), half, test.size(),
        static_cast<std::size_t>(std::count(test_truth.begin(), test_truth.end(), true)),
        c->precision(), c->recall(), c->f1(), c->tp, c->fp, c->fn, c->tn);
  }
  // Random: per seed, a random half of the normal lines trains; the other normal lines and
  // every alert line are scored.
  Summary random;
  std::size_t n_train = 0;
  std::size_t n_test = 0;
  for (std::size_t seed = 1; seed <= o.seeds; ++seed) {
    std::mt19937_64 rng(seed);
    std::vector<std::size_t> normal_idx;
    for (std::size_t i = 0; i < rows.size(); ++i)
      if (!truth[i]) normal_idx.push_back(i);
    std::shuffle(normal_idx.begin(), normal_idx.end(), rng);
    std::vector<bool> in_train(rows.size(), false);
    for (std::size_t k = 0; k < normal_idx.size() / 2; ++k)
      in_train[normal_idx[k]] = true;
    std::vector<FeatureRow> train, test;
    std::vector<bool> test_truth;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (in_train[i]) {
        train.push_back(rows[i]);
      } else {
        test.push_back(rows[i]);
        test_truth.push_back(truth[i]);
      }
    }
    n_train = train.size();
    n_test = test.size();
    auto c = run(train, test, test_truth);
    if (!c) {
      std::fprintf(stderr, "sluice anomaly: %s\n", c.error().message.c_str());
      return 1;
    }
    random.add(*c);
  }
  std::printf(
      "random (%zu seeds): train on %zu random normal lines, score the other %zu lines (all %zu "
      "alert lines)\n  precision %s recall %s F1 %s\n",
      o.seeds, n_train, n_test, alert_lines, Summary::stat(random.p).c_str(),
      Summary::stat(random.r).c_str(), Summary::stat(random.f).c_str());
  return 0;
}

}  // namespace

Result<std::shared_ptr<AnomalyStage>> add_anomaly_stage(Pipeline& pipeline,
                                                        const TemplatesConfig& templates,
                                                        const AnomalyConfig& anomaly,
                                                        MetricsRegistry* metrics) {
  if (!templates.enabled && anomaly.model.empty()) return std::shared_ptr<AnomalyStage>();
  register_accelerators();
  auto stage = AnomalyStage::create(templates, anomaly);
  if (!stage) return stage.error();
  pipeline.add_stage(stage.value());
  if (metrics) {
    const AnomalyStage* s = stage.value().get();
    metrics->add_gauge("sluice_templates", "Templates in the template table", "",
                       [s] { return static_cast<double>(s->miner().size()); });
    metrics->add_counter("sluice_anomaly_alerts_total", "Anomaly alerts raised", "",
                         &s->alerts_counter());
  }
  return stage;
}

bool finish_anomaly_stage(AnomalyStage* stage, const char* command) {
  if (stage == nullptr) return true;
  auto r = stage->finish();
  if (!r) {
    std::fprintf(stderr, "%s: anomaly: %s\n", command, r.error().message.c_str());
    return false;
  }
  if (stage->scorer_name().empty())
    std::fprintf(stderr, "%s: templates %zu\n", command, stage->miner().size());
  else
    std::fprintf(stderr, "%s: templates %zu; anomaly windows %llu alerts %llu (%s scorer)\n",
                 command, stage->miner().size(),
                 static_cast<unsigned long long>(stage->windows_scored()),
                 static_cast<unsigned long long>(stage->alerts()), stage->scorer_name().c_str());
  return true;
}

int anomaly_command(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(anomaly_usage, stderr);
    return 2;
  }
  Options o;
  o.mode = argv[1];
  if (o.mode == "--help" || o.mode == "-h") {
    std::fputs(anomaly_usage, stdout);
    return 0;
  }
  if (o.mode != "train" && o.mode != "score" && o.mode != "eval")
    return usage_error("unknown mode '" + o.mode + "' (train, score, eval)");
  for (int i = 2; i < argc; ++i) {
    const std::string_view a = argv[i];
    const char* v = nullptr;
    auto value = [&]() -> bool {
      if (i + 1 >= argc) return false;
      v = argv[++i];
      return true;
    };
    auto number = [&](double& out, double lo, double hi) -> bool {
      return value() && parse_number(v, out) && out >= lo && out <= hi;
    };
    if (a == "--help" || a == "-h") {
      std::fputs(anomaly_usage, stdout);
      return 0;
    } else if (a == "--model" || a == "--table" || a == "--store" || a == "--sessions" ||
               a == "--backend" || a == "--deeplog" || a == "--bgl") {
      if (!value()) return usage_error(std::string(a) + " needs a value");
      (a == "--model"      ? o.model_path
       : a == "--table"    ? o.table_path
       : a == "--store"    ? o.store
       : a == "--sessions" ? o.sessions
       : a == "--backend"  ? o.backend
       : a == "--deeplog"  ? o.deeplog
                           : o.bgl) = v;
    } else if (a == "--from" || a == "--to") {
      if (!value() || !parse_time(v, a == "--from" ? o.from_ns : o.to_ns))
        return usage_error(std::string(a) + " needs an RFC 3339 time or Unix seconds");
    } else if (a == "--entity") {
      if (!value()) return usage_error("--entity needs a value");
      o.features.entity_fields.clear();
      std::string_view s(v);
      while (!s.empty()) {
        const auto comma = s.find(',');
        o.features.entity_fields.emplace_back(s.substr(0, comma));
        if (comma == std::string_view::npos) break;
        s.remove_prefix(comma + 1);
      }
    } else if (a == "--window") {
      double seconds = 0;
      if (!number(seconds, 1, 1e9)) return usage_error("--window needs seconds >= 1");
      o.features.window = std::chrono::seconds(static_cast<std::int64_t>(seconds));
    } else if (a == "--variance") {
      if (!number(o.model.variance, 0, 1))
        return usage_error("--variance needs a number in [0, 1]");
    } else if (a == "--alpha") {
      if (!number(o.model.alpha, 1e-12, 0.5))
        return usage_error("--alpha needs a number in (0, 0.5]");
    } else if (a == "--rare-share") {
      if (!number(o.model.rare_share, 0, 1))
        return usage_error("--rare-share needs a number in [0, 1]");
    } else if (a == "--known-windows") {
      double n = 0;
      if (!number(n, 0, 1e9)) return usage_error("--known-windows needs a count");
      o.model.max_known_windows = static_cast<std::size_t>(n);
    } else if (a == "--train-share") {
      if (!number(o.train_share, 0, 1))
        return usage_error("--train-share needs a number in (0, 1)");
    } else if (a == "--rate") {
      if (!number(o.rate, 1e-6, 0.5)) return usage_error("--rate needs a number in (0, 0.5]");
    } else if (a == "--seeds") {
      double n = 0;
      if (!number(n, 1, 1000)) return usage_error("--seeds needs an integer in [1, 1000]");
      o.seeds = static_cast<std::size_t>(n);
    } else if (a.size() > 1 && a[0] == '-') {
      return usage_error("unknown option '" + std::string(a) + "'");
    } else {
      o.files.emplace_back(a);
    }
  }
  if (o.mode == "train") return train(o);
  if (o.mode == "score") return score(o);
  if (!o.deeplog.empty()) return eval_deeplog(o);
  if (!o.bgl.empty()) return eval_bgl(o);
  return usage_error("eval needs --deeplog DIR or --bgl FILE");
}

}  // namespace sluice::cli
