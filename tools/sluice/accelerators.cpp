// SPDX-License-Identifier: Apache-2.0
/// The one place that knows which accelerators were built (DESIGN.md: `SLUICE_HAVE_CUDA` and
/// `SLUICE_HAVE_DPDK` appear in one file). CMake decides what is built, config what runs.
#include "accelerators.hpp"

#if SLUICE_HAVE_CUDA
#include "sluice/gpu/cuda_scorer.hpp"
#endif
#if SLUICE_HAVE_DPDK
#include "sluice/dpdk/dpdk_source.hpp"
#endif

namespace sluice::cli {

void register_accelerators() {
#if SLUICE_HAVE_CUDA
  sluice::gpu::register_cuda_scorer();
#endif
#if SLUICE_HAVE_DPDK
  sluice::dpdk::register_capture_backend();
#endif
}

}  // namespace sluice::cli
