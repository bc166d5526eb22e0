// SPDX-License-Identifier: Apache-2.0
/// Loads corpus files and generated lines into one contiguous buffer (see corpus.hpp).
#include "sluice/blast/corpus.hpp"

#include <cerrno>
#include <cstdio>
#include <memory>

#include "sluice/common/assert.hpp"

namespace sluice::blast {

Result<Corpus> Corpus::from_files(std::span<const std::filesystem::path> paths) {
  Corpus corpus;
  for (const auto& path : paths) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                         &std::fclose);
    if (!file) return Error::from_errno("open corpus file " + path.string());
    std::string content;
    char buffer[1 << 16];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0)
      content.append(buffer, n);
    if (std::ferror(file.get())) return Error::from_errno("read corpus file " + path.string());
    std::size_t begin = 0;
    while (begin < content.size()) {
      auto end = content.find('\n', begin);
      if (end == std::string::npos) end = content.size();
      std::string_view line(content.data() + begin, end - begin);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (!line.empty()) corpus.add(line);
      begin = end + 1;
    }
  }
  return corpus;
}

Corpus Corpus::generate(CorpusGenerator& generator, std::size_t lines) {
  Corpus corpus;
  corpus.offsets_.reserve(lines + 1);
  for (std::size_t i = 0; i < lines; ++i)
    corpus.add(generator.next());
  return corpus;
}

void Corpus::add(std::string_view message) {
  SLUICE_DEBUG_ASSERT(message.find('\n') == std::string_view::npos, "corpus lines hold no LF");
  bytes_.append(message);
  offsets_.push_back(bytes_.size());
}

}  // namespace sluice::blast
