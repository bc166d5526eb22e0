// SPDX-License-Identifier: Apache-2.0
/// `SigmaRuleSet`: core's `RuleSet` over a compiled `Program`. Immutable once built; scanners
/// made from it keep it alive. `finalize_program` (compile.cpp) builds the Hyperscan databases
/// and trigger tables; `make_scanner` (scan.cpp) is the scan side.
#pragma once

#include <memory>

#include "program.hpp"
#include "sluice/common/result.hpp"
#include "sluice/detect/rule_set.hpp"

namespace sluice::rules::detail {

class SigmaRuleSet final : public RuleSet, public std::enable_shared_from_this<SigmaRuleSet> {
 public:
  explicit SigmaRuleSet(std::unique_ptr<Program> program) : program_(std::move(program)) {}
  std::size_t rule_count() const override { return program_->rules.size(); }
  const RuleInfo& rule(std::uint32_t index) const override { return program_->rules[index].info; }
  std::unique_ptr<RuleScanner> make_scanner() const override;
  const Program& program() const { return *program_; }

 private:
  std::unique_ptr<Program> program_;
};

/// Compiles every slot's databases, computes which rules each atom triggers and which rules must
/// always be evaluated, and sizes the prototype scratch. Fails only on Hyperscan errors.
Result<void> finalize_program(Program& program);

}  // namespace sluice::rules::detail
