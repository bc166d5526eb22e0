// SPDX-License-Identifier: Apache-2.0
/// Driver for fuzz targets in normal (non-libFuzzer) builds: replays every file in the folders
/// given as arguments through `LLVMFuzzerTestOneInput`, then runs a bounded, seeded batch of
/// mutations of those inputs (about a second), so each target is an ordinary CTest test that
/// also explores a little beyond its corpus. With -DSLUICE_FUZZ=ON libFuzzer's own main is used
/// instead.
///
/// Deterministic: the seed is fixed, so a failure reproduces; the time cap only shortens the run
/// on slow machines. Each input is copied into a buffer of exactly its size so sanitizer builds
/// catch reads past the end.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

/// Mutation budget: enough to reach past the corpus (tens of thousands of inputs on a laptop
/// core for these parsers) while keeping each fuzz test near one second.
constexpr std::size_t max_mutations = 200'000;
constexpr auto max_mutation_time = std::chrono::milliseconds(1000);
/// Seeds are cut to this length before mutating so the oversized hostile inputs do not dominate.
constexpr std::size_t max_seed_bytes = 4096;
constexpr std::uint64_t seed = 0x5eed'5111ce;

/// Tokens that steer mutations into the parsers' interesting states.
constexpr std::string_view tokens[] = {
    "<13>",
    "<191>",
    "<1",
    "1 ",
    "- ",
    "CEF:0|",
    "|",
    "\\|",
    "=",
    "\"",
    "\\\"",
    "[",
    "]",
    "\\]",
    "{",
    "}",
    ":",
    "[123]:",
    "\\",
    "\xEF\xBB\xBF",
    "\r\n",
    "Jan  1 00:00:00 ",
    "2026-01-01T00:00:00.123456789+01:00 ",
    "\x00",
    "\xff",
    "{\"a\":",
    "[[",
    "]]",
    "key=\"v\" ",
    "Z",
};

void run(const std::vector<std::uint8_t>& input) {
  std::vector<std::uint8_t> exact(input.begin(), input.end());
  LLVMFuzzerTestOneInput(exact.empty() ? nullptr : exact.data(), exact.size());
}

std::vector<std::uint8_t> mutate(const std::vector<std::vector<std::uint8_t>>& corpus,
                                 std::mt19937_64& rng) {
  auto pick = [&](std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng() % n); };
  std::vector<std::uint8_t> out = corpus[pick(corpus.size())];
  const std::size_t rounds = 1 + pick(4);
  for (std::size_t r = 0; r < rounds; ++r) {
    switch (pick(8)) {
      case 0:  // flip a bit
        if (!out.empty()) out[pick(out.size())] ^= static_cast<std::uint8_t>(1u << pick(8));
        break;
      case 1:  // set a random byte
        if (!out.empty()) out[pick(out.size())] = static_cast<std::uint8_t>(rng());
        break;
      case 2:  // insert a random byte
        out.insert(out.begin() + static_cast<std::ptrdiff_t>(pick(out.size() + 1)),
                   static_cast<std::uint8_t>(rng()));
        break;
      case 3: {  // delete a range
        if (out.empty()) break;
        const std::size_t at = pick(out.size());
        const std::size_t n = 1 + pick(std::min<std::size_t>(out.size() - at, 16));
        out.erase(out.begin() + static_cast<std::ptrdiff_t>(at),
                  out.begin() + static_cast<std::ptrdiff_t>(at + n));
        break;
      }
      case 4: {  // insert a token
        const std::string_view t = tokens[pick(std::size(tokens))];
        out.insert(out.begin() + static_cast<std::ptrdiff_t>(pick(out.size() + 1)), t.begin(),
                   t.end());
        break;
      }
      case 5:  // truncate
        out.resize(pick(out.size() + 1));
        break;
      case 6: {  // splice with another input
        const auto& other = corpus[pick(corpus.size())];
        const std::size_t keep = pick(out.size() + 1);
        const std::size_t from = pick(other.size() + 1);
        out.resize(keep);
        out.insert(out.end(), other.begin() + static_cast<std::ptrdiff_t>(from), other.end());
        break;
      }
      default: {  // duplicate a range
        if (out.empty() || out.size() > 2 * max_seed_bytes) break;
        const std::size_t at = pick(out.size());
        const std::size_t n = 1 + pick(std::min<std::size_t>(out.size() - at, 64));
        std::vector<std::uint8_t> copy(out.begin() + static_cast<std::ptrdiff_t>(at),
                                       out.begin() + static_cast<std::ptrdiff_t>(at + n));
        out.insert(out.begin() + static_cast<std::ptrdiff_t>(pick(out.size() + 1)), copy.begin(),
                   copy.end());
        break;
      }
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::vector<std::vector<std::uint8_t>> corpus;
  std::size_t replayed = 0;
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    if (!fs::is_directory(argv[i], ec)) {
      std::fprintf(stderr, "replay: skipping %s (not a folder)\n", argv[i]);
      continue;
    }
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(argv[i], ec))
      if (entry.is_regular_file()) files.push_back(entry.path());
    std::sort(files.begin(), files.end());  // directory order is not stable; the seed sequence is
    for (const auto& path : files) {
      std::ifstream in(path, std::ios::binary);
      std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                      std::istreambuf_iterator<char>());
      run(bytes);
      ++replayed;
      if (bytes.size() > max_seed_bytes) bytes.resize(max_seed_bytes);
      corpus.push_back(std::move(bytes));
    }
  }
  if (corpus.empty()) corpus.emplace_back();

  std::mt19937_64 rng(seed);
  const auto start = std::chrono::steady_clock::now();
  std::size_t mutations = 0;
  while (mutations < max_mutations) {
    // Checking the clock every 256 inputs keeps its cost out of the measurement.
    if ((mutations & 255) == 0 && std::chrono::steady_clock::now() - start > max_mutation_time)
      break;
    run(mutate(corpus, rng));
    ++mutations;
  }
  std::printf("replay: %zu files, %zu mutations\n", replayed, mutations);
  return 0;
}
