// SPDX-License-Identifier: Apache-2.0
/// The loader's common entry point behind `load_sigma` and `load_sigma_text`: rule files from
/// paths plus rule texts given inline (rule tests), compiled into one set.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sluice/rules/sigma.hpp"

namespace sluice::rules::detail {

/// `texts` are (origin, YAML text) pairs loaded after the files of `options.paths`.
Result<std::shared_ptr<const RuleSet>> load_sources(
    const SigmaOptions& options, const std::vector<std::pair<std::string, std::string>>& texts,
    LoadReport& report);

}  // namespace sluice::rules::detail
