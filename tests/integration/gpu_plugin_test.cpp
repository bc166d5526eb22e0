// SPDX-License-Identifier: Apache-2.0
/// The CUDA scorer as a plugin: `sluice` does not link the CUDA runtime or cuBLAS, and loads
/// libsluice_gpu.so (next to the binary, or `$SLUICE_GPU_MODULE`) on the first use of backend
/// cuda/auto. The module must load with every symbol resolved (RTLD_NOW); on a machine without a
/// GPU the scorer then fails in `cudaGetDeviceCount` and `auto` falls back to the CPU. A module
/// that is missing or has no entry point is an error of the backend, never a crash.
#include <gtest/gtest.h>

#include <fstream>

#include "tests_support.hpp"

namespace sluice::test {
namespace {

struct Run {
  int status = -1;
  std::string out;
  std::string err;
};

/// Runs `sluice args...`, with SLUICE_GPU_MODULE=`module` when `module` is not empty.
Run sluice(std::vector<std::string> args, const std::string& module = "") {
  args.insert(args.begin(), sluice_binary().string());
  if (!module.empty()) {
    args.insert(args.begin(), "SLUICE_GPU_MODULE=" + module);
    args.insert(args.begin(), "/usr/bin/env");
  }
  Run r;
  r.status = run_command(args, r.out, r.err);
  return r;
}

/// Trains a small session model in `dir`; returns the score command for `backend`.
std::vector<std::string> score_command(const TempDir& dir, const std::string& backend) {
  {
    std::ofstream normal(dir / "normal");
    for (int i = 0; i < 50; ++i)
      normal << (i % 2 ? "1 2 2 3\n" : "1 2 3 3 2 2\n");
    std::ofstream test(dir / "test");
    test << "1 2 2 3\n1 3\n1 2 2 3 9\n";
  }
  const std::string model = (dir / "model.txt").string();
  auto t = sluice({"anomaly", "train", "--sessions", (dir / "normal").string(), "--model", model});
  EXPECT_EQ(t.status, 0) << t.err;
  return {"anomaly", "score", "--sessions", (dir / "test").string(),
          "--model", model,   "--backend",  backend};
}

#if SLUICE_HAVE_CUDA
constexpr bool have_cuda = true;
#else
constexpr bool have_cuda = false;
#endif

TEST(GpuPlugin, BinaryDoesNotLinkCuda) {
  std::string out, err;
  ASSERT_EQ(run_command({"/usr/bin/ldd", sluice_binary().string()}, out, err), 0) << err;
  EXPECT_EQ(out.find("libcudart"), std::string::npos) << out;
  EXPECT_EQ(out.find("libcublas"), std::string::npos) << out;
}

TEST(GpuPlugin, AutoLoadsTheModule) {
  if (!have_cuda) GTEST_SKIP() << "built without the CUDA scorer (no nvcc/cuBLAS)";
  TempDir dir;
  auto r = sluice(score_command(dir, "auto"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err.find("CUDA scorer module"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("undefined symbol"), std::string::npos) << r.err;
  if (r.err.find("anomaly scorer: cuda") != std::string::npos) return;  // a GPU is present
  // No GPU: the module loaded and the CUDA runtime itself said why it cannot start.
  EXPECT_NE(r.err.find("cudaGetDeviceCount failed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("anomaly scorer: cpu (auto: GPU backend cannot start"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("falling back to the CPU"), std::string::npos) << r.err;
}

TEST(GpuPlugin, MissingModuleFallsBackUnderAutoAndFailsUnderCuda) {
  if (!have_cuda) GTEST_SKIP() << "built without the CUDA scorer (no nvcc/cuBLAS)";
  TempDir dir;
  const std::string absent = (dir / "absent.so").string();
  auto a = sluice(score_command(dir, "auto"), absent);
  ASSERT_EQ(a.status, 0) << a.err;
  EXPECT_NE(a.err.find("cannot load the CUDA scorer module " + absent), std::string::npos) << a.err;
  EXPECT_NE(a.err.find("No such file"), std::string::npos) << a.err;
  EXPECT_NE(a.err.find("falling back to the CPU"), std::string::npos) << a.err;
  auto c = sluice(score_command(dir, "cuda"), absent);
  EXPECT_EQ(c.status, 1) << c.err;
  EXPECT_NE(c.err.find("cannot load the CUDA scorer module " + absent), std::string::npos) << c.err;
}

TEST(GpuPlugin, ModuleWithoutEntryIsAnError) {
  if (!have_cuda) GTEST_SKIP() << "built without the CUDA scorer (no nvcc/cuBLAS)";
  TempDir dir;
  // A real shared library that is not the plugin.
  auto r = sluice(score_command(dir, "auto"), "libm.so.6");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("CUDA scorer module libm.so.6 has no entry sluice_gpu_scorer_factory"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("falling back to the CPU"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sluice::test
