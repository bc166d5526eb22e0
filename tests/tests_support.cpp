// SPDX-License-Identifier: Apache-2.0
#include "tests_support.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace sluice::test {
namespace fs = std::filesystem;

namespace {
fs::path env_path(const char* name, const char* fallback) {
  if (const char* v = std::getenv(name); v != nullptr && *v != '\0') return v;
  return fallback;
}
}  // namespace

std::optional<fs::path> data_dir() {
  fs::path dir;
  if (const char* v = std::getenv("SLUICE_TEST_DATA"); v != nullptr && *v != '\0') {
    dir = v;
  } else {
    dir = env_path("SLUICE_SOURCE_DIR", ".") / ".." / "shared" / "data";
  }
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return std::nullopt;
  return fs::weakly_canonical(dir, ec);
}

std::optional<fs::path> data_path(const std::string& relative) {
  auto dir = data_dir();
  if (!dir) return std::nullopt;
  auto p = *dir / relative;
  std::error_code ec;
  if (!fs::exists(p, ec)) return std::nullopt;
  return p;
}

fs::path own_data_dir() { return env_path("SLUICE_SOURCE_DIR", ".") / "tests" / "data"; }
fs::path binary_dir() { return env_path("SLUICE_BINARY_DIR", "."); }
fs::path sluice_binary() { return binary_dir() / "tools" / "sluice"; }

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    lines.emplace_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

}  // namespace sluice::test
