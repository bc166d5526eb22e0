// SPDX-License-Identifier: Apache-2.0
/// The detection interface between the pipeline (core) and a rule language (rules/ implements it
/// for Sigma). A `RuleSet` is compiled once, immutable, and shared by all workers; each worker
/// owns one `RuleScanner` made from it (its scratch space). Reload replaces the whole `RuleSet`.
///
/// The scan contract: `RuleScanner::scan` looks at every event of a batch once and appends one
/// `Detection` per (event, rule) that matched. It does not allocate per event; it may allocate
/// per detection (detections are rare next to events). It never throws.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/event/event_batch.hpp"

namespace sluice {

/// What an alert says about the rule that raised it.
struct RuleInfo {
  std::string id;
  std::string title;
  std::string level;   ///< informational, low, medium, high, critical
  std::string status;  ///< stable, test, experimental, ...
  std::string description;
  std::vector<std::string> tags;
  std::vector<std::string> attack_techniques;  ///< MITRE ATT&CK ids from tags ("T1110.001")
  std::string path;                            ///< the rule file it came from
};

/// A field (or the keyword search over the message) that contributed to a match.
struct MatchedField {
  std::string name;   ///< event field name, or "message" for keywords
  std::string value;  ///< the value that matched
};

/// One rule matched one event of the batch being scanned.
struct Detection {
  std::uint32_t event_index = 0;  ///< index into the batch's events
  std::uint32_t rule_index = 0;   ///< index into the rule set
  std::vector<MatchedField> matched;
};

/// Per-worker scanning state. Not thread-safe; one per worker thread.
class RuleScanner {
 public:
  virtual ~RuleScanner() = default;
  /// Appends to `out` every detection in `batch` (events of any parse status).
  virtual void scan(const EventBatch& batch, std::vector<Detection>& out) = 0;
};

/// A compiled, immutable set of rules. Thread-safe: any number of threads may call its const
/// members and use scanners made from it.
class RuleSet {
 public:
  virtual ~RuleSet() = default;
  virtual std::size_t rule_count() const = 0;
  virtual const RuleInfo& rule(std::uint32_t index) const = 0;
  /// A new scanner with its own scratch space.
  virtual std::unique_ptr<RuleScanner> make_scanner() const = 0;
};

}  // namespace sluice
