// SPDX-License-Identifier: Apache-2.0
/// The correlation part of rule tests (`alerts` in a `*.test.yml`), called by rule_test.cpp.
#pragma once

#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sluice/rules/rule_test.hpp"

namespace sluice::rules::detail {

/// Loads the test's correlation rules, feeds `detections` of `batch` (one submit per event, in
/// order, `time` from the test) through an engine and compares the alerts with `root["alerts"]`.
/// Adds one event (passed or failed) to `result`.
void check_correlation_alerts(const YAML::Node& root, const std::string& where,
                              const SigmaOptions& options,
                              const std::vector<std::pair<std::string, std::string>>& texts,
                              const std::shared_ptr<const RuleSet>& rules, EventBatch& batch,
                              const std::vector<Detection>& detections, RuleTestResult& result);

}  // namespace sluice::rules::detail
