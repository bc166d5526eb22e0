// SPDX-License-Identifier: Apache-2.0
#include "kernels.hpp"

namespace sluice::gpu {

namespace {

/// Threads per block: a multiple of the warp size that keeps occupancy high on sm_90.
constexpr unsigned threads_per_block = 256;

__global__ void center_kernel(const float* __restrict__ x, const double* __restrict__ mean,
                              double* __restrict__ y, std::size_t total, std::size_t d) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    y[i] = static_cast<double>(x[i]) - mean[i % d];
}

__global__ void row_norms_kernel(const double* __restrict__ r, double* __restrict__ spe,
                                 std::size_t rows, std::size_t d) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < rows;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const double* row = r + i * d;
    double acc = 0;
    for (std::size_t j = 0; j < d; ++j)
      acc += row[j] * row[j];
    spe[i] = acc;
  }
}

unsigned blocks_for(std::size_t n) {
  const std::size_t b = (n + threads_per_block - 1) / threads_per_block;
  // Grid-stride loops cover the rest; 65535 blocks fill any current GPU many times over.
  return static_cast<unsigned>(b < 65535 ? (b ? b : 1) : 65535);
}

}  // namespace

cudaError_t launch_center(const float* x, const double* mean, double* y, std::size_t rows,
                          std::size_t d, cudaStream_t stream) {
  const std::size_t total = rows * d;
  center_kernel<<<blocks_for(total), threads_per_block, 0, stream>>>(x, mean, y, total, d);
  return cudaGetLastError();
}

cudaError_t launch_row_norms(const double* r, double* spe, std::size_t rows, std::size_t d,
                             cudaStream_t stream) {
  row_norms_kernel<<<blocks_for(rows), threads_per_block, 0, stream>>>(r, spe, rows, d);
  return cudaGetLastError();
}

}  // namespace sluice::gpu
