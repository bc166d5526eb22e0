// SPDX-License-Identifier: Apache-2.0
/// Shared helpers for the test suite: where the real public data lives (`SLUICE_TEST_DATA`,
/// default `../shared/data` next to the checkout), where the built binaries are, and a macro that
/// skips a test with the reason when its data is absent.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace sluice::test {

/// The folder of real public data, or nullopt when it is absent. Resolution: the environment
/// variable `SLUICE_TEST_DATA`; else `<source dir>/../shared/data`.
std::optional<std::filesystem::path> data_dir();

/// `data_dir() / relative` when that file or folder exists.
std::optional<std::filesystem::path> data_path(const std::string& relative);

/// The repository's root folder.
std::filesystem::path source_dir();

/// The repository's `tests/data` folder (inputs written for the suite).
std::filesystem::path own_data_dir();

/// The build folder (where `tools/sluice` was built).
std::filesystem::path binary_dir();

/// Path of the `sluice` binary.
std::filesystem::path sluice_binary();

/// Reads a whole file; empty when it cannot be read.
std::string read_file(const std::filesystem::path& path);

/// Splits `text` on '\n' (no trailing empty line).
std::vector<std::string> split_lines(const std::string& text);

}  // namespace sluice::test

/// Declares `var` as the path of `relative` in the data folder, or skips the test with the reason.
#define SLUICE_REQUIRE_DATA(var, relative)                                                       \
  auto var##_opt = ::sluice::test::data_path(relative);                                          \
  if (!var##_opt)                                                                                \
    GTEST_SKIP() << "real data not found: " << (relative)                                        \
                 << " (set SLUICE_TEST_DATA to the shared data folder; default ../shared/data)"; \
  const std::filesystem::path var = *var##_opt

namespace sluice::test {

/// A child process started from argv, its stdout and stderr written to files.
class Process {
 public:
  /// Starts `argv[0]` with `argv`; stdin from `stdin_path` when given, else /dev/null.
  Process(const std::vector<std::string>& argv, const std::filesystem::path& stdout_path,
          const std::filesystem::path& stderr_path, const std::string& stdin_path = "");
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  int pid() const { return pid_; }
  void signal(int sig) const;
  /// Waits up to `timeout_ms`; returns the exit status (or 128+signal), or -1 on timeout (the
  /// process is then killed).
  int wait(int timeout_ms);

 private:
  int pid_ = -1;
  bool reaped_ = false;
};

/// Runs a command to completion (timeout 120 s) and returns its exit status; stdout and stderr
/// are returned through the out-parameters.
int run_command(const std::vector<std::string>& argv, std::string& out, std::string& err,
                const std::string& stdin_path = "");

/// A finished `sluice` command: exit status, stdout split into lines, stderr.
struct SluiceRun {
  int status = -1;
  std::vector<std::string> lines;
  std::string err;
};

/// Runs the built `sluice` with `args` and waits for it.
SluiceRun run_sluice(std::vector<std::string> args);

/// A port on 127.0.0.1 that was free a moment ago, for both UDP and TCP.
std::uint16_t free_port();

/// One HTTP/1.0 GET to 127.0.0.1:`port`: the whole response (status line, headers, body), or
/// "" when nothing listens there.
std::string http_get(std::uint16_t port, const std::string& path);

/// A fresh, empty temporary folder, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  /// `path() / name`.
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace sluice::test
