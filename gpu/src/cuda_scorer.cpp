// SPDX-License-Identifier: Apache-2.0
/// CUDA scorer host side. A batch is cut into chunks; chunk i goes to stream i mod `stream_count`
/// with its own pinned host and device buffers: the host copies the chunk into pinned memory,
/// queues the upload, the centring kernel, the cuBLAS DGEMM `R = C Y` and the row-norm kernel,
/// and the download, then moves on to the next chunk while the device works. A stream's buffers
/// are reused only after that stream has finished (its results are then copied out).
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "kernels.hpp"
#include "sluice/gpu/cuda_scorer.hpp"

namespace sluice::gpu {

namespace {

/// Streams in flight: one uploading, one computing, one downloading.
constexpr std::size_t stream_count = 3;
/// Device bytes per stream for the double-precision centred rows and residual: 64 MiB each
/// keeps launches long (hundreds of thousands of rows at the HDFS dimension) while three streams
/// use well under 1 GiB.
constexpr std::size_t chunk_bytes = 64u << 20;

Error cuda_error(const char* call, cudaError_t e) {
  return Error{std::string(call) + " failed: " + cudaGetErrorString(e) + " (CUDA error " +
               std::to_string(static_cast<int>(e)) + ")"};
}

Error cublas_error(const char* call, cublasStatus_t s) {
  return Error{std::string(call) + " failed: cuBLAS status " + std::to_string(static_cast<int>(s))};
}

struct Slot {
  cudaStream_t stream = nullptr;
  cublasHandle_t blas = nullptr;
  float* host_in = nullptr;    // pinned
  double* host_out = nullptr;  // pinned
  float* dev_x = nullptr;
  double* dev_y = nullptr;
  double* dev_r = nullptr;
  double* dev_spe = nullptr;
  // The chunk in flight: where its results go.
  double* pending_dst = nullptr;
  std::size_t pending_rows = 0;
};

class CudaScorer final : public AnomalyScorer {
 public:
  ~CudaScorer() override {
    for (auto& s : slots_) {
      if (s.stream) cudaStreamSynchronize(s.stream);
      if (s.blas) cublasDestroy(s.blas);
      if (s.stream) cudaStreamDestroy(s.stream);
      cudaFreeHost(s.host_in);
      cudaFreeHost(s.host_out);
      cudaFree(s.dev_x);
      cudaFree(s.dev_y);
      cudaFree(s.dev_r);
      cudaFree(s.dev_spe);
    }
    cudaFree(dev_c_);
    cudaFree(dev_mean_);
  }

  std::string_view name() const override { return "cuda"; }

  Result<void> init(const AnomalyModel& model) {
    d_ = model.dimension();
    chunk_rows_ = std::max<std::size_t>(1024, chunk_bytes / (d_ * sizeof(double)));
    cudaError_t e;
    if ((e = cudaSetDevice(0)) != cudaSuccess) return cuda_error("cudaSetDevice", e);
    if ((e = cudaMalloc(&dev_c_, d_ * d_ * sizeof(double))) != cudaSuccess)
      return cuda_error("cudaMalloc", e);
    if ((e = cudaMalloc(&dev_mean_, d_ * sizeof(double))) != cudaSuccess)
      return cuda_error("cudaMalloc", e);
    // C is symmetric, so its row-major bytes are also its column-major form.
    if ((e = cudaMemcpy(dev_c_, model.residual_projector().data(), d_ * d_ * sizeof(double),
                        cudaMemcpyHostToDevice)) != cudaSuccess)
      return cuda_error("cudaMemcpy", e);
    if ((e = cudaMemcpy(dev_mean_, model.mean().data(), d_ * sizeof(double),
                        cudaMemcpyHostToDevice)) != cudaSuccess)
      return cuda_error("cudaMemcpy", e);
    slots_.resize(stream_count);
    for (auto& s : slots_) {
      if ((e = cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking)) != cudaSuccess)
        return cuda_error("cudaStreamCreate", e);
      if (auto st = cublasCreate(&s.blas); st != CUBLAS_STATUS_SUCCESS)
        return cublas_error("cublasCreate", st);
      if (auto st = cublasSetStream(s.blas, s.stream); st != CUBLAS_STATUS_SUCCESS)
        return cublas_error("cublasSetStream", st);
      if ((e = cudaHostAlloc(&s.host_in, chunk_rows_ * d_ * sizeof(float),
                             cudaHostAllocWriteCombined)) != cudaSuccess)
        return cuda_error("cudaHostAlloc", e);
      if ((e = cudaHostAlloc(&s.host_out, chunk_rows_ * sizeof(double), cudaHostAllocDefault)) !=
          cudaSuccess)
        return cuda_error("cudaHostAlloc", e);
      if ((e = cudaMalloc(&s.dev_x, chunk_rows_ * d_ * sizeof(float))) != cudaSuccess)
        return cuda_error("cudaMalloc", e);
      if ((e = cudaMalloc(&s.dev_y, chunk_rows_ * d_ * sizeof(double))) != cudaSuccess)
        return cuda_error("cudaMalloc", e);
      if ((e = cudaMalloc(&s.dev_r, chunk_rows_ * d_ * sizeof(double))) != cudaSuccess)
        return cuda_error("cudaMalloc", e);
      if ((e = cudaMalloc(&s.dev_spe, chunk_rows_ * sizeof(double))) != cudaSuccess)
        return cuda_error("cudaMalloc", e);
    }
    return {};
  }

  Result<void> score(std::span<const float> x, std::size_t rows, std::span<double> spe) override {
    if (x.size() < rows * d_ || spe.size() < rows)
      return Error{"cuda scorer: buffers smaller than rows x dimension"};
    auto r = run(x, rows, spe);
    if (!r) {
      // Never leave a chunk in flight that would later be copied into the caller's buffer.
      for (auto& s : slots_) {
        if (s.stream) cudaStreamSynchronize(s.stream);
        s.pending_dst = nullptr;
        s.pending_rows = 0;
      }
    }
    return r;
  }

 private:
  Result<void> run(std::span<const float> x, std::size_t rows, std::span<double> spe) {
    std::size_t next_slot = 0;
    for (std::size_t begin = 0; begin < rows; begin += chunk_rows_) {
      const std::size_t n = std::min(chunk_rows_, rows - begin);
      Slot& s = slots_[next_slot];
      next_slot = (next_slot + 1) % slots_.size();
      if (auto r = finish(s); !r) return r;
      std::memcpy(s.host_in, x.data() + begin * d_, n * d_ * sizeof(float));
      cudaError_t e;
      if ((e = cudaMemcpyAsync(s.dev_x, s.host_in, n * d_ * sizeof(float), cudaMemcpyHostToDevice,
                               s.stream)) != cudaSuccess)
        return cuda_error("cudaMemcpyAsync", e);
      if ((e = launch_center(s.dev_x, dev_mean_, s.dev_y, n, d_, s.stream)) != cudaSuccess)
        return cuda_error("center kernel", e);
      // Row-major Y (n × d) is column-major Yᵀ (d × n); Rᵀ = C Yᵀ since C is symmetric.
      const double one = 1.0, zero = 0.0;
      const int di = static_cast<int>(d_);
      if (auto st = cublasDgemm(s.blas, CUBLAS_OP_N, CUBLAS_OP_N, di, static_cast<int>(n), di, &one,
                                dev_c_, di, s.dev_y, di, &zero, s.dev_r, di);
          st != CUBLAS_STATUS_SUCCESS)
        return cublas_error("cublasDgemm", st);
      if ((e = launch_row_norms(s.dev_r, s.dev_spe, n, d_, s.stream)) != cudaSuccess)
        return cuda_error("row-norm kernel", e);
      if ((e = cudaMemcpyAsync(s.host_out, s.dev_spe, n * sizeof(double), cudaMemcpyDeviceToHost,
                               s.stream)) != cudaSuccess)
        return cuda_error("cudaMemcpyAsync", e);
      s.pending_dst = spe.data() + begin;
      s.pending_rows = n;
    }
    for (auto& s : slots_)
      if (auto r = finish(s); !r) return r;
    return {};
  }

  /// Waits for the slot's chunk in flight, if any, and copies its results out.
  Result<void> finish(Slot& s) {
    if (!s.pending_dst) return {};
    if (cudaError_t e = cudaStreamSynchronize(s.stream); e != cudaSuccess) {
      s.pending_dst = nullptr;
      return cuda_error("cudaStreamSynchronize", e);
    }
    std::memcpy(s.pending_dst, s.host_out, s.pending_rows * sizeof(double));
    s.pending_dst = nullptr;
    s.pending_rows = 0;
    return {};
  }

  std::size_t d_ = 0;
  std::size_t chunk_rows_ = 0;
  double* dev_c_ = nullptr;
  double* dev_mean_ = nullptr;
  std::vector<Slot> slots_;
};

}  // namespace

Result<std::unique_ptr<AnomalyScorer>> make_cuda_scorer(const AnomalyModel& model) {
  int count = 0;
  if (cudaError_t e = cudaGetDeviceCount(&count); e != cudaSuccess)
    return cuda_error("cudaGetDeviceCount", e);
  if (count == 0) return Error{"no CUDA device"};
  if (model.dimension() == 0) return Error{"cuda scorer: the model has no columns"};
  auto scorer = std::make_unique<CudaScorer>();
  if (auto r = scorer->init(model); !r) return r.error();
  return std::unique_ptr<AnomalyScorer>(std::move(scorer));
}

void register_cuda_scorer() {
  register_scorer("cuda", &make_cuda_scorer);
}

}  // namespace sluice::gpu
