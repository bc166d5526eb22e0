// SPDX-License-Identifier: Apache-2.0
#include "bench_support.hpp"

#include <cstdlib>
#include <fstream>

namespace sluice::bench {
namespace fs = std::filesystem;

std::optional<fs::path> data_dir() {
  std::error_code ec;
  if (const char* v = std::getenv("SLUICE_TEST_DATA"); v != nullptr && *v != '\0') {
    if (fs::is_directory(v, ec)) return fs::path(v);
    return std::nullopt;
  }
  for (fs::path p :
       {fs::path("../shared/data"), fs::path(SLUICE_SOURCE_DIR) / ".." / "shared" / "data"}) {
    if (fs::is_directory(p, ec)) return p;
  }
  return std::nullopt;
}

std::vector<std::string> load_lines(const std::string& relative) {
  std::vector<std::string> lines;
  auto dir = data_dir();
  if (!dir) return lines;
  std::ifstream in(*dir / relative, std::ios::binary);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

}  // namespace sluice::bench
