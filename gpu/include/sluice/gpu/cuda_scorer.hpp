// SPDX-License-Identifier: Apache-2.0
/// The CUDA anomaly scorer: the same SPE as the CPU reference, computed on an NVIDIA GPU with
/// cuBLAS (DGEMM against the residual projector), pinned host buffers and several streams so
/// that the copy of one chunk overlaps the compute of the previous one.
#pragma once

#include <memory>

#include "sluice/anomaly/scorer.hpp"

namespace sluice::gpu {

/// Makes a CUDA scorer for `model` on device 0. Errors (never crashes) when the CUDA runtime
/// finds no usable device: `cudaGetDeviceCount` failing (error 35, no driver, on machines without
/// a GPU), no device, or an allocation failure. Each error names the call and the CUDA message.
Result<std::unique_ptr<AnomalyScorer>> make_cuda_scorer(const AnomalyModel& model);

/// Registers `make_cuda_scorer` as backend "cuda" in core's scorer registry. For programs that
/// link the static `sluice_gpu` (tests, benchmarks); the `sluice` CLI instead loads the plugin
/// libsluice_gpu.so on demand, whose entry point `sluice_gpu_scorer_factory` (src/plugin.cpp)
/// returns `make_cuda_scorer`.
void register_cuda_scorer();

}  // namespace sluice::gpu
