// SPDX-License-Identifier: Apache-2.0
/// Rule tests: `sluice rules test PATH` and the data-driven tests in `tests/cases/sigma/`.
/// A test file (`*.test.yml`) names rules (files, folders, or inline documents), lists events
/// and, per event, exactly which rules must match it. The format is documented in
/// `rules/README.md`.
///
/// Also here: the JSON flattening the tests use to build events from JSON text, matching the
/// shape the JSON parser produces (nested objects become dotted names).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/common/result.hpp"
#include "sluice/event/event_batch.hpp"
#include "sluice/rules/sigma.hpp"

namespace sluice::rules {

/// Appends one event per JSON object in `text` (an object, an array of objects, or several
/// objects one after another) to `batch`. Nested objects become dotted names
/// (`Event.System.EventID`); array elements are `name.0`, `name.1`, ...; `null` values are left
/// out; numbers and booleans keep their text. `raw` is the object's text; format is `json`. Values
/// live in the batch's arena. Returns the number of events added, or where the JSON is invalid.
Result<std::size_t> add_json_events(std::string_view text, EventBatch& batch);

/// The outcome of running rule tests.
struct RuleTestResult {
  std::size_t files = 0;
  std::size_t events = 0;
  std::size_t passed = 0;                   ///< events whose matches were exactly as expected
  std::vector<std::string> failures;        ///< one line per failing event or broken test file
  std::vector<RuleDiagnostic> diagnostics;  ///< skipped rules and rule errors while loading
};

/// Runs every `*.test.yml` under `path` (a file or a folder). `mapping_path` as in
/// `SigmaOptions` (empty = shipped default). Fails only when `path` cannot be read.
Result<RuleTestResult> run_rule_tests(const std::string& path, const std::string& mapping_path);

}  // namespace sluice::rules
