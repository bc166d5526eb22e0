// SPDX-License-Identifier: Apache-2.0
/// Entry point of libsluice_gpu.so, the CUDA scorer as a plugin: the CLI dlopen()s the module on
/// first use of the GPU backend and calls this to get the factory (tools/sluice/accelerators.cpp).
/// Core's symbols resolve from the executable that loads the module.
#include "sluice/gpu/cuda_scorer.hpp"

extern "C" __attribute__((visibility("default"))) void* sluice_gpu_scorer_factory() {
  sluice::ScorerFactory factory = &sluice::gpu::make_cuda_scorer;
  return reinterpret_cast<void*>(factory);
}
