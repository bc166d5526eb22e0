// SPDX-License-Identifier: Apache-2.0
/// `sluice rules check PATH...` and `sluice rules test PATH...`.
///
/// check: loads the rules as `sluice run` would and prints every rule that is not loaded with its
/// exact reason, then a summary (loaded, skipped by reason, errors by reason). Exit 1 when any
/// rule or file has an error, 0 otherwise (skipped rules are not errors).
/// test: runs the `*.test.yml` rule tests under each PATH (format: rules/README.md). Exit 1 when
/// any expectation fails.
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "commands.hpp"
#include "sluice/rules/correlation.hpp"
#include "sluice/rules/rule_test.hpp"
#include "sluice/rules/sigma.hpp"

namespace sluice::cli {
namespace {

void usage() {
  std::fprintf(stderr,
               "usage: sluice rules check [--mapping FILE] [--min-level LEVEL] [--status S]... "
               "[--quiet] PATH...\n"
               "       sluice rules test [--mapping FILE] PATH...\n");
}

/// `path:line`, or the path alone when the line is unknown.
std::string where(const rules::RuleDiagnostic& d) {
  return d.line ? d.path + ":" + std::to_string(d.line) : d.path;
}

int check(const rules::SigmaOptions& options, bool quiet) {
  rules::LoadReport report;
  auto set = rules::load_sigma(options, report);
  if (!set) {
    std::fprintf(stderr, "sluice rules check: %s\n", set.error().message.c_str());
    return 1;
  }
  // Correlation rules: validated and resolved against the rules just loaded. Their problems
  // replace the Sigma loader's generic "correlation" skips.
  rules::LoadReport correlation_report;
  auto correlations = rules::load_correlations(options, {}, set.value(), correlation_report);
  if (!correlations) {
    std::fprintf(stderr, "sluice rules check: %s\n", correlations.error().message.c_str());
    return 1;
  }
  std::erase_if(report.skipped, [](const auto& d) { return d.reason == "correlation"; });
  for (auto& d : correlation_report.skipped)
    report.skipped.push_back(std::move(d));
  for (auto& d : correlation_report.errors)
    report.errors.push_back(std::move(d));
  std::map<std::string, std::size_t> skipped, errors;
  for (const auto& d : report.skipped) {
    ++skipped[d.reason];
    if (!quiet)
      std::printf("skipped  %s  %s  [%s] %s\n", where(d).c_str(),
                  d.rule_id.empty() ? "-" : d.rule_id.c_str(), d.reason.c_str(), d.message.c_str());
  }
  for (const auto& d : report.errors) {
    ++errors[d.reason];
    std::printf("error    %s  %s  [%s] %s\n", where(d).c_str(),
                d.rule_id.empty() ? "-" : d.rule_id.c_str(), d.reason.c_str(), d.message.c_str());
  }
  std::printf(
      "loaded   %zu rules in %.0f ms (YAML %.0f ms; %zu atoms, %zu scanned on every event; "
      "regexes: %zu Hyperscan, %zu Hyperscan prefilter + RE2, %zu RE2 alone; %zu rules "
      "evaluated on every event)\n",
      report.loaded, report.compile_ms, report.parse_ms, report.atoms, report.eager_atoms,
      report.regexes_hyperscan, report.regexes_prefiltered, report.regexes_re2_only,
      report.always_evaluated);
  std::size_t chains = 0;
  for (const auto& c : correlations.value()->specs())
    chains += c.level > 0;
  std::printf("loaded   %zu correlation rules (%zu chained on other correlations)\n",
              correlations.value()->specs().size(), chains);
  std::printf("skipped  %zu\n", report.skipped.size());
  for (const auto& [reason, n] : skipped)
    std::printf("  %6zu  %s\n", n, reason.c_str());
  std::printf("errors   %zu\n", report.errors.size());
  for (const auto& [reason, n] : errors)
    std::printf("  %6zu  %s\n", n, reason.c_str());
  return report.errors.empty() ? 0 : 1;
}

int test(const std::vector<std::string>& paths, const std::string& mapping) {
  std::size_t events = 0, passed = 0, files = 0;
  bool failed = false;
  for (const auto& p : paths) {
    auto result = rules::run_rule_tests(p, mapping);
    if (!result) {
      std::fprintf(stderr, "sluice rules test: %s\n", result.error().message.c_str());
      failed = true;
      continue;
    }
    for (const auto& d : result->diagnostics)
      std::printf("note     %s  %s  [%s] %s\n", d.path.c_str(), d.rule_id.c_str(), d.reason.c_str(),
                  d.message.c_str());
    for (const auto& f : result->failures)
      std::printf("FAIL     %s\n", f.c_str());
    if (!result->failures.empty()) failed = true;
    events += result->events;
    passed += result->passed;
    files += result->files;
  }
  std::printf("%zu test files, %zu/%zu events as expected\n", files, passed, events);
  if (files == 0) {
    std::fprintf(stderr, "sluice rules test: no *.test.yml files found\n");
    return 1;
  }
  return failed ? 1 : 0;
}

}  // namespace

int rules_command(int argc, char** argv) {
  if (argc < 2) {
    usage();
    return 2;
  }
  const std::string_view sub = argv[1];
  rules::SigmaOptions options;
  bool quiet = false;
  std::vector<std::string> paths;
  for (int i = 2; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (a == "--mapping") {
      const char* v = next();
      if (!v) return usage(), 2;
      options.mapping_path = v;
    } else if (a == "--min-level") {
      const char* v = next();
      if (!v) return usage(), 2;
      options.min_level = v;
    } else if (a == "--status") {
      const char* v = next();
      if (!v) return usage(), 2;
      options.statuses.emplace_back(v);
    } else if (a == "--quiet" || a == "-q") {
      quiet = true;
    } else if (a == "-h" || a == "--help") {
      usage();
      return 0;
    } else {
      paths.emplace_back(a);
    }
  }
  if (paths.empty()) {
    usage();
    return 2;
  }
  if (sub == "check") {
    options.paths = paths;
    return check(options, quiet);
  }
  if (sub == "test") return test(paths, options.mapping_path);
  usage();
  return 2;
}

}  // namespace sluice::cli
