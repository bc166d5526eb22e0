// SPDX-License-Identifier: Apache-2.0
/// Fuzz target: the template miner on arbitrary lines. Checks that every line gets a template id
/// whose text has as many tokens as the masked line, that mining a line again finds the same
/// template without creating one, and that the table survives a save/load round trip.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "sluice/anomaly/template_miner.hpp"

namespace {

std::size_t count_tokens(std::string_view text) {
  std::size_t n = 0;
  bool in = false;
  for (char c : text) {
    const bool space = c == ' ';
    if (!space && !in) ++n;
    in = !space;
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sluice::TemplateMinerConfig config;
  config.max_tokens = 64;
  sluice::TemplateMiner miner(config);
  sluice::MinerScratch scratch;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string text;
  std::size_t start = 0;
  while (start <= input.size()) {
    std::size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    const std::string_view line = input.substr(start, end - start);
    const auto first = miner.mine(line, scratch, &text);
    if (first.id == 0) std::abort();
    if (scratch.size() > config.max_tokens) std::abort();
    if (count_tokens(text) != scratch.size()) std::abort();
    const auto again = miner.mine(line, scratch);
    if (again.id != first.id || again.created || again.widened) std::abort();
    if (miner.template_text(first.id) != text) std::abort();
    start = end + 1;
  }
  // Round trip through the table file.
  static const std::filesystem::path path =
      std::filesystem::temp_directory_path() /
      ("sluice_template_fuzz_" + std::to_string(::getpid()) + ".tsv");
  if (!miner.save(path)) std::abort();
  sluice::TemplateMiner loaded(config);
  if (!loaded.load(path)) std::abort();
  if (loaded.templates() != miner.templates()) std::abort();
  std::filesystem::remove(path);
  return 0;
}
