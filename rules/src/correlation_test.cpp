// SPDX-License-Identifier: Apache-2.0
/// Correlation expectations in rule tests (`sluice rules test`, format in rules/README.md): a
/// test file with an `alerts` list feeds its events, in the order written and with their
/// `time`, through the correlation rules it loads, and the correlation alerts raised must be
/// exactly those listed, in order.
#include <yaml-cpp/yaml.h>

#include <fmt/format.h>

#include "correlation_test.hpp"
#include "sluice/parse/timestamp.hpp"
#include "sluice/rules/correlation.hpp"

namespace sluice::rules::detail {
namespace {

std::string scalar(const YAML::Node& n) {
  return n && n.IsScalar() ? n.Scalar() : std::string{};
}

/// RFC 3339 text, or seconds since the epoch (a number, fractions allowed).
bool parse_time(const YAML::Node& n, std::int64_t& out) {
  const std::string text = scalar(n);
  ParsedTime t;
  if (scan_rfc3339(text, 0, true, t) == text.size() && !text.empty()) {
    out = t.utc_ns;
    return true;
  }
  try {
    out = static_cast<std::int64_t>(n.as<double>() * 1e9);
    return true;
  } catch (const YAML::Exception&) {
    return false;
  }
}

}  // namespace

void check_correlation_alerts(const YAML::Node& root, const std::string& where,
                              const SigmaOptions& options,
                              const std::vector<std::pair<std::string, std::string>>& texts,
                              const std::shared_ptr<const RuleSet>& rules, EventBatch& batch,
                              const std::vector<Detection>& detections, RuleTestResult& result) {
  // The Sigma loader noted each correlation document as skipped ("correlation"); here they run.
  std::erase_if(result.diagnostics,
                [](const RuleDiagnostic& d) { return d.reason == "correlation"; });
  LoadReport report;
  auto set = load_correlations(options, texts, rules, report);
  for (auto& d : report.skipped)
    result.diagnostics.push_back(d);
  for (auto& d : report.errors)
    result.diagnostics.push_back(d);
  if (!set) {
    result.failures.push_back(where + ": " + set.error().message);
    return;
  }
  if (!report.errors.empty()) {
    result.failures.push_back(where + ": correlation rules have errors (see notes)");
    return;
  }
  // Event times: `time` of each event where given (else what the parser found).
  const YAML::Node events = root["events"];
  for (std::size_t i = 0; i < batch.size() && i < events.size(); ++i) {
    if (const YAML::Node t = events[i]["time"]) {
      if (!parse_time(t, batch.events()[i].event_time_ns)) {
        result.failures.push_back(
            fmt::format("{}: event {}: 'time' must be RFC 3339 or seconds", where, i));
        return;
      }
    }
  }
  CorrelationConfig config;
  config.threads = 1;
  config.tolerance_ns = 0;
  if (const YAML::Node tol = root["tolerance_seconds"])
    config.tolerance_ns = static_cast<std::int64_t>(tol.as<double>() * 1e9);
  CorrelationEngine engine((*set)->specs(), config);
  std::vector<CorrelationAlert> alerts;
  std::vector<CorrelationSet::Input> inputs;
  std::size_t missing = 0;
  // One submit per event, in the order written: arrival order is part of the test.
  for (std::uint32_t i = 0; i < batch.size(); ++i) {
    inputs.clear();
    for (const auto& d : detections)
      if (d.event_index == i) (*set)->inputs_for(batch.events()[i], d, inputs, missing);
    std::vector<CorrelationInput> in;
    for (const auto& x : inputs)
      in.push_back({batch.events()[i].event_time_ns, x.correlation, x.step, x.key, x.value,
                    EventRef::line(0, i + 1)});
    engine.submit(in, alerts);
  }
  engine.finish(alerts);

  std::vector<std::string> got, want;
  for (const auto& a : alerts) {
    if (!(*set)->correlation_generates(a.correlation)) continue;
    const Alert alert = (*set)->make_alert(a);
    std::string line = alert.rule_id.empty() ? alert.rule_title : alert.rule_id;
    for (const auto& [k, v] : alert.group)
      line += fmt::format(" {}={}", k, v);
    line += fmt::format(" count={} events=[", alert.count);
    for (std::size_t r = 0; r < alert.refs.size(); ++r)
      line += fmt::format("{}{}", r ? "," : "", alert.refs[r].line_number() - 1);
    line += "]";
    got.push_back(line);
  }
  // An expectation names its rule by id, name or title and its group; count and contributing
  // events (indexes into `events`) are compared when given.
  std::vector<std::string> compared;
  const YAML::Node expected = root["alerts"];
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const YAML::Node x = expected[i];
    std::string rule = scalar(x["rule"]);
    for (const auto& s : (*set)->specs())
      if ((s.rule.name == rule || s.rule.title == rule) && !s.rule.id.empty()) rule = s.rule.id;
    std::string line = rule;
    for (const auto& kv : x["group"])
      line += fmt::format(" {}={}", kv.first.as<std::string>(), scalar(kv.second));
    if (x["count"]) line += " count=" + scalar(x["count"]);
    if (x["events"]) {
      line += " events=[";
      std::size_t k = 0;
      for (const auto& e : x["events"])
        line += fmt::format("{}{}", k++ ? "," : "", scalar(e));
      line += "]";
    }
    want.push_back(line);
    if (i < got.size()) {
      std::string actual = got[i].substr(0, got[i].find(" count="));
      const auto c = got[i].find(" count=");
      const auto e = got[i].find(" events=");
      if (x["count"]) actual += got[i].substr(c, e - c);
      if (x["events"]) actual += got[i].substr(e);
      compared.push_back(actual);
    }
  }
  ++result.events;
  const bool same = got.size() == want.size() && compared == want;
  if (same) {
    ++result.passed;
    return;
  }
  std::string line = where + ": correlation alerts: expected [";
  for (const auto& w : want)
    line += " {" + w + "}";
  line += " ] got [";
  for (const auto& g : got)
    line += " {" + g + "}";
  line += " ]";
  result.failures.push_back(line);
}

}  // namespace sluice::rules::detail
