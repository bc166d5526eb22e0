// SPDX-License-Identifier: Apache-2.0
/// Loads the Sigma rules `sluice run` and `sluice scan` use, and says what was skipped.
#include <cstdio>
#include <map>

#include "app.hpp"
#include "sluice/rules/sigma.hpp"

namespace sluice::cli {

Result<std::shared_ptr<const RuleSet>> load_rules(const RulesConfig& rules, bool verbose) {
  sluice::rules::SigmaOptions options;
  options.paths = rules.paths;
  options.mapping_path = rules.mapping;
  options.min_level = rules.min_level;
  sluice::rules::LoadReport report;
  auto set = sluice::rules::load_sigma(options, report);
  if (!set) return set.error();
  // Correlation documents are skipped here and loaded by the correlation loader, which reports
  // on them itself (load_correlation_rules).
  std::erase_if(report.skipped, [](const auto& d) { return d.reason == "correlation"; });
  std::map<std::string, std::size_t> by_reason;
  for (const auto& d : report.skipped)
    ++by_reason[d.reason];
  for (const auto& d : report.errors)
    ++by_reason["error: " + d.reason];
  std::string reasons;
  for (const auto& [reason, n] : by_reason)
    reasons += "; " + std::to_string(n) + " " + reason;
  std::fprintf(stderr, "sluice: rules: %zu loaded, %zu skipped, %zu with errors (%.0f ms)%s\n",
               report.loaded, report.skipped.size(), report.errors.size(), report.compile_ms,
               reasons.c_str());
  if (verbose) {
    for (const auto& d : report.skipped)
      std::fprintf(stderr, "  skipped %s (%s): %s\n", d.path.c_str(), d.rule_id.c_str(),
                   d.message.c_str());
  }
  for (const auto& d : report.errors)
    std::fprintf(stderr, "  error %s (%s): %s\n", d.path.c_str(), d.rule_id.c_str(),
                 d.message.c_str());
  return set;
}

}  // namespace sluice::cli
