// SPDX-License-Identifier: Apache-2.0
/// The Sigma rule language behind core's detection interface (`sluice/detect/rule_set.hpp`).
///
/// `load_sigma` reads rule files and folders, parses every YAML document into a typed form,
/// validates it, lowers it to Hyperscan atoms plus bit logic, and compiles one immutable
/// `RuleSet`. Nothing is dropped silently: every rule that is not loaded appears in the
/// `LoadReport` with its file, id and a short fixed reason (`skipped` for rules that are valid
/// but cannot run here, `errors` for rules or files that are malformed).
///
/// Loading allocates freely and may take seconds for thousands of rules; scanning with the
/// returned set does not allocate per event.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/common/result.hpp"
#include "sluice/detect/rule_set.hpp"

namespace sluice::rules {

/// Which engine runs a `|re` regex that Hyperscan accepts as it is. Regexes Hyperscan rejects
/// always go to Hyperscan's prefilter mode with RE2 confirmation, else to RE2 alone.
enum class RegexEngine {
  automatic,  ///< Hyperscan alone (the fastest, measured in bench/micro/sigma_bench.cpp)
  prefilter,  ///< Hyperscan with HS_FLAG_PREFILTER, each hit confirmed by RE2
  re2,        ///< RE2 alone, over the field's values of candidate rules
};

/// What to load and how to map it onto events.
struct SigmaOptions {
  /// Rule files or folders (searched recursively for `*.yml` / `*.yaml`; `*.test.yml` files are
  /// rule tests, not rules, and are ignored).
  std::vector<std::string> paths;
  /// Log source and field mapping file; empty = the shipped `rules/mappings/default.yml`, found
  /// through the `SLUICE_RULES_DIR` environment variable or the compiled-in source path.
  std::string mapping_path;
  /// Lowest level loaded (informational, low, medium, high, critical); empty = all.
  std::string min_level;
  /// Statuses loaded (stable, test, experimental, ...); empty = all.
  std::vector<std::string> statuses;
  /// For tests and measurements: force regexes Hyperscan accepts through another engine.
  RegexEngine regex_engine = RegexEngine::automatic;
};

/// One rule (or file) that was not loaded, and why.
struct RuleDiagnostic {
  std::string path;     ///< the rule file (or the `origin` given to `load_sigma_text`)
  std::string rule_id;  ///< the rule's `id`, empty when it has none or the file did not parse
  std::string title;    ///< the rule's `title`, when known
  /// Short fixed category, e.g. "unknown logsource", "correlation", "unsupported modifier",
  /// "invalid yaml", "invalid condition". Suitable for grouping and counting.
  std::string reason;
  /// The full, actionable explanation (names the key, the value and the identifier).
  std::string message;
  /// 1-based line in `path` of the offending key (else of the rule's document); 0 when unknown.
  std::size_t line = 0;
};

/// The outcome of a load: how many rules are in the set and every rule that is not.
struct LoadReport {
  std::size_t loaded = 0;  ///< rules in the compiled set
  /// Valid rules this engine does not run (yet). One entry per problem: a rule with several
  /// problems appears several times.
  std::vector<RuleDiagnostic> skipped;
  /// Malformed rules and unreadable files, one entry per problem.
  std::vector<RuleDiagnostic> errors;
  /// Regex leaves that run through RE2 (prefiltered by Hyperscan where it accepts
  /// `HS_FLAG_PREFILTER`, else evaluated directly): those Hyperscan rejects, and with a forced
  /// `SigmaOptions::regex_engine` every `|re` regex.
  std::size_t regex_fallbacks = 0;
  /// Distinct `|re` regexes (per pattern and flags) by engine: Hyperscan alone, Hyperscan
  /// prefilter (`HS_FLAG_PREFILTER`) with RE2 confirmation, RE2 alone.
  std::size_t regexes_hyperscan = 0;
  std::size_t regexes_prefiltered = 0;
  std::size_t regexes_re2_only = 0;
  /// Rules evaluated on every event because they can match without any of their atoms firing
  /// (pure negations, `null`, `exists`, comparisons); all others run only when an atom fires.
  std::size_t always_evaluated = 0;
  /// Distinct atoms (literal or regex, per field) over all rules.
  std::size_t atoms = 0;
  /// The atoms in databases scanned on every event (they trigger a rule, or open a keyword
  /// group); the others are matched only when a rule being evaluated reads them.
  std::size_t eager_atoms = 0;
  /// Wall time of parsing plus compiling, in milliseconds.
  double compile_ms = 0;
  /// The part of `compile_ms` spent reading and parsing YAML.
  double parse_ms = 0;
};

/// Loads, validates and compiles the rules named by `options`. Diagnostics go to `report`. Fails
/// (returns an error) only when the mapping file cannot be read or Hyperscan cannot compile or
/// allocate; bad rules never fail the load. Thread-safe (no shared state).
sluice::Result<std::shared_ptr<const sluice::RuleSet>> load_sigma(const SigmaOptions& options,
                                                                  LoadReport& report);

/// Like `load_sigma`, but the rules come from YAML text (one or more documents) instead of files;
/// `origin` names them in diagnostics. `options.paths` is ignored. For tests and tools.
sluice::Result<std::shared_ptr<const sluice::RuleSet>> load_sigma_text(std::string_view yaml,
                                                                       std::string_view origin,
                                                                       const SigmaOptions& options,
                                                                       LoadReport& report);

/// A scanner for differential tests: evaluates every rule of `set` on every event and matches
/// atoms with a plain matcher (ASCII case folding, RE2) instead of Hyperscan, so its detections
/// must equal those of `set->make_scanner()`. `set` must come from `load_sigma` or
/// `load_sigma_text`. Slow and allocating; not for the data path.
std::unique_ptr<sluice::RuleScanner> make_reference_scanner(
    const std::shared_ptr<const sluice::RuleSet>& set);

/// The shipped mapping file as `load_sigma` finds it when `mapping_path` is empty.
std::string default_mapping_path();

/// The folder of shipped rule packs (`rules/packs`), found like the mapping file.
std::string default_packs_path();

}  // namespace sluice::rules
