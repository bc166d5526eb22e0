// SPDX-License-Identifier: Apache-2.0
/// The one place that knows which accelerators were built (DESIGN.md: `SLUICE_HAVE_CUDA`
/// appears in one file).
#include "accelerators.hpp"

#if SLUICE_HAVE_CUDA
#include "sluice/gpu/cuda_scorer.hpp"
#endif

namespace sluice::cli {

void register_accelerators() {
#if SLUICE_HAVE_CUDA
  sluice::gpu::register_cuda_scorer();
#endif
}

}  // namespace sluice::cli
