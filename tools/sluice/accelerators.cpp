// SPDX-License-Identifier: Apache-2.0
/// The one place that knows which accelerators were built (DESIGN.md: `SLUICE_HAVE_CUDA` and
/// `SLUICE_HAVE_DPDK` appear in one file). CMake decides what is built, config what runs.
///
/// The CUDA scorer is not linked into the binary: it is the plugin libsluice_gpu.so (gpu/), next
/// to the executable or at `$SLUICE_GPU_MODULE`, loaded on the first use of the GPU backend. Every
/// other command starts without the CUDA runtime and cuBLAS. A module that cannot be loaded is an
/// error of the backend like a missing device: `auto` logs it and falls back to the CPU.
#include "accelerators.hpp"

#if SLUICE_HAVE_CUDA
#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>

#include "sluice/anomaly/scorer.hpp"
#endif
#if SLUICE_HAVE_DPDK
#include "sluice/dpdk/dpdk_source.hpp"
#endif

namespace sluice::cli {

#if SLUICE_HAVE_CUDA
namespace {

/// Name of the module's entry point: `extern "C" void* sluice_gpu_scorer_factory()` returns the
/// `ScorerFactory` of the CUDA scorer.
constexpr const char* gpu_entry = "sluice_gpu_scorer_factory";

std::string gpu_module_path() {
  if (const char* env = std::getenv("SLUICE_GPU_MODULE"); env && *env) return env;
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "libsluice_gpu.so";
  return (exe.parent_path() / "libsluice_gpu.so").string();
}

/// Loads the module once (the handle is kept for the life of the process); the factory, or why
/// there is none.
Result<ScorerFactory> load_gpu_module() {
  static std::once_flag once;
  static ScorerFactory factory = nullptr;
  static std::string failure;
  std::call_once(once, [] {
    const std::string path = gpu_module_path();
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char* why = dlerror();
      failure = "cannot load the CUDA scorer module " + path + ": " + (why ? why : "unknown error");
      return;
    }
    dlerror();
    void* entry = dlsym(handle, gpu_entry);
    if (const char* why = dlerror(); why || !entry) {
      failure = "CUDA scorer module " + path + " has no entry " + gpu_entry + ": " +
                (why ? why : "null symbol");
      return;
    }
    auto get = reinterpret_cast<void* (*)()>(entry);
    factory = reinterpret_cast<ScorerFactory>(get());
    if (!factory) failure = "CUDA scorer module " + path + " returned no factory";
  });
  if (!factory) return Error{failure};
  return factory;
}

Result<std::unique_ptr<AnomalyScorer>> make_plugin_cuda_scorer(const AnomalyModel& model) {
  auto factory = load_gpu_module();
  if (!factory) return factory.error();
  return (*factory)(model);
}

}  // namespace
#endif

void register_accelerators() {
#if SLUICE_HAVE_CUDA
  register_scorer("cuda", &make_plugin_cuda_scorer);
#endif
#if SLUICE_HAVE_DPDK
  sluice::dpdk::register_capture_backend();
#endif
}

}  // namespace sluice::cli
