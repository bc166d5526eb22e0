// SPDX-License-Identifier: Apache-2.0
/// What `sluice run` and `sluice scan` share for templates and anomaly scoring.
#pragma once

#include <memory>

#include "sluice/anomaly/anomaly_stage.hpp"
#include "sluice/config/config.hpp"
#include "sluice/metrics/counter.hpp"
#include "sluice/pipeline/pipeline.hpp"

namespace sluice::cli {

/// When templates are enabled or a model is configured, registers the accelerators, builds the
/// anomaly stage and adds it to `pipeline`; returns it (nullptr when neither is configured).
/// With `metrics`, exports `sluice_templates` and `sluice_anomaly_alerts_total`.
Result<std::shared_ptr<AnomalyStage>> add_anomaly_stage(Pipeline& pipeline,
                                                        const TemplatesConfig& templates,
                                                        const AnomalyConfig& anomaly,
                                                        MetricsRegistry* metrics = nullptr);

/// After `pipeline.wait()`: finishes the stage and prints one summary line to stderr as
/// `<command>: templates N; anomaly windows W alerts A (scorer)`. Returns false on failure.
bool finish_anomaly_stage(AnomalyStage* stage, const char* command);

}  // namespace sluice::cli
