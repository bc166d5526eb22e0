// SPDX-License-Identifier: Apache-2.0
/// `Output` is where events and alerts leave the pipeline. Rendering is split from writing so
/// the expensive part runs in parallel: each worker calls `render` for the batches it processed
/// (into a buffer owned by that batch), and the single sink thread calls `write` with those
/// buffers in source order.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "sluice/common/result.hpp"
#include "sluice/detect/rule_set.hpp"
#include "sluice/event/event_batch.hpp"

namespace sluice {

class Output {
 public:
  virtual ~Output() = default;
  /// Short name for metrics and the summary ("events:/var/log/sluice/events.jsonl").
  virtual std::string describe() const = 0;
  /// Appends this output's bytes for `batch` to `out` and returns how many records (lines) it
  /// rendered. Called from worker threads concurrently (implementations must be const-safe);
  /// `rules` is the rule set the detections refer to (null when detection is off).
  virtual std::size_t render(const EventBatch& batch, std::span<const Detection> detections,
                             const RuleSet* rules, std::string& out) const = 0;
  /// Writes rendered bytes. Called only from the sink thread.
  virtual Result<void> write(std::string_view bytes) = 0;
  /// Flushes buffered bytes. Called from the sink thread, and at shutdown.
  virtual Result<void> flush() = 0;
  /// The sink thread found no batch waiting (once per idle spell, before it spins or sleeps):
  /// an output that holds records back to handle them in larger pieces under load (the
  /// correlation output) handles them now. Sink thread only; the default does nothing.
  virtual void idle() {}
};

}  // namespace sluice
