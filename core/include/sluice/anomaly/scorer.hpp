// SPDX-License-Identifier: Apache-2.0
/// `AnomalyScorer`: the one interface behind which the scoring backends sit. The CPU reference
/// (Eigen) is in core and always present; the CUDA scorer in `gpu/` registers itself under
/// "cuda" through `register_scorer` when the binary is built with it.
///
/// A scorer computes, for a dense batch of windows (rows × model dimension, template counts as
/// `float`, row-major), each row's squared prediction error `‖C (x - mean)‖²` in double
/// precision. Every backend must agree with the CPU reference within 1e-5 relative.
///
/// `make_scorer` chooses the backend at start: `cpu`, `cuda`, or `auto` (the GPU when one is
/// built and a device starts, else the CPU). It logs the choice and the reason once; a backend
/// that fails to start under `auto` falls back to the CPU with a log line, never a crash.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/anomaly/anomaly_model.hpp"
#include "sluice/common/result.hpp"

namespace sluice {

class AnomalyScorer {
 public:
  virtual ~AnomalyScorer() = default;
  /// "cpu", "cuda", ...
  virtual std::string_view name() const = 0;
  /// Scores `rows` rows of `x` (rows × dimension floats, row-major) into `spe` (rows). One
  /// scorer is used by one thread at a time; it may keep buffers between calls.
  virtual Result<void> score(std::span<const float> x, std::size_t rows, std::span<double> spe) = 0;
};

/// Makes a scorer of one backend for `model`, or says why it cannot (no device, ...).
using ScorerFactory = Result<std::unique_ptr<AnomalyScorer>> (*)(const AnomalyModel& model);

/// Registers a backend by name (the CPU backend is built in). Call at start, before
/// `make_scorer`; a second registration of a name replaces the first. Thread-safe.
void register_scorer(std::string name, ScorerFactory factory);
/// Names of the registered backends, "cpu" first.
std::vector<std::string> scorer_names();

/// The CPU reference. `threads` splits large batches across that many threads (0: one per
/// core).
std::unique_ptr<AnomalyScorer> make_cpu_scorer(const AnomalyModel& model, std::size_t threads = 0);

/// A chosen scorer and why it was chosen.
struct ScorerChoice {
  std::unique_ptr<AnomalyScorer> scorer;
  std::string reason;
};

/// Chooses a backend: "cpu", "auto", or a registered name. An explicit name that cannot start is
/// an error; `auto` tries the GPU backend ("cuda") when registered and falls back to the CPU.
/// Logs the choice and reason at info level (area `anomaly`).
Result<ScorerChoice> make_scorer(std::string_view backend, const AnomalyModel& model,
                                 std::size_t cpu_threads = 0);

}  // namespace sluice
