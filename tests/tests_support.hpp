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
#define SLUICE_REQUIRE_DATA(var, relative)                                                     \
  auto var##_opt = ::sluice::test::data_path(relative);                                       \
  if (!var##_opt)                                                                              \
    GTEST_SKIP() << "real data not found: " << (relative)                                      \
                 << " (set SLUICE_TEST_DATA to the shared data folder; default ../shared/data)"; \
  const std::filesystem::path var = *var##_opt
