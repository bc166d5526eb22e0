// SPDX-License-Identifier: Apache-2.0
/// The two small kernels around the cuBLAS GEMM: centring (float counts to double, minus the
/// mean) and the row-wise squared norm of the residual. Launched on the caller's stream.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

namespace sluice::gpu {

/// y[i][j] = x[i][j] - mean[j] for rows × d (row-major).
cudaError_t launch_center(const float* x, const double* mean, double* y, std::size_t rows,
                          std::size_t d, cudaStream_t stream);
/// spe[i] = sum_j r[i][j]^2 for rows × d (row-major).
cudaError_t launch_row_norms(const double* r, double* spe, std::size_t rows, std::size_t d,
                             cudaStream_t stream);

}  // namespace sluice::gpu
