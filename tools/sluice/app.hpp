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
#include "sluice/pipeline/pipeline.hpp"

namespace sluice::cli {

/// Creates the source(s) for one input description (a UDP input with several sockets yields
/// one source per socket).
Result<std::vector<std::unique_ptr<Source>>> make_sources(const InputConfig& input);

/// Loads Sigma rules; prints a one-line load summary and, at `verbose`, every skipped rule.
Result<std::shared_ptr<const RuleSet>> load_rules(const RulesConfig& rules, bool verbose);

/// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread and every thread it starts after
/// this call, so that only `wait_for_signal` sees them.
void block_signals();

/// Waits up to `timeout_ms` for SIGINT, SIGTERM or SIGHUP; returns the signal or 0.
int wait_for_signal(int timeout_ms);

/// "events 12,345 (1,234/s) parsed 12,000 unparsed 345 dropped 0 alerts 12"
std::string summary_line(const PipelineStats& now, const PipelineStats& before,
                         double interval_seconds);

}  // namespace sluice::cli
