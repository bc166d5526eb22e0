// SPDX-License-Identifier: Apache-2.0
/// Shared helpers for micro-benchmarks: the real data folder (`SLUICE_TEST_DATA`, default
/// `../shared/data` relative to the working directory or the source tree) and corpus loading.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace sluice::bench {

/// The real data folder, or nullopt when absent.
std::optional<std::filesystem::path> data_dir();

/// Lines of a file under the data folder; empty when the folder or file is absent.
std::vector<std::string> load_lines(const std::string& relative);

}  // namespace sluice::bench
