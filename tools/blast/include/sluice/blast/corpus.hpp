// SPDX-License-Identifier: Apache-2.0
/// `Corpus` holds the messages `sluice blast` sends: lines read from files, or lines taken from
/// the `CorpusGenerator`. All messages live in one contiguous buffer so the senders can point
/// `iovec`s straight into it; nothing is copied or allocated while sending.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/blast/corpus_generator.hpp"
#include "sluice/common/result.hpp"

namespace sluice::blast {

/// An immutable list of messages (no line terminators). Safe to share read-only between sender
/// threads once built.
class Corpus {
 public:
  Corpus() = default;

  /// Reads every non-empty line of each file, in order. A trailing '\r' is dropped with the
  /// '\n'. Fails with the path and errno text when a file cannot be read.
  static Result<Corpus> from_files(std::span<const std::filesystem::path> paths);

  /// Takes the next `lines` lines from `generator`.
  static Corpus generate(CorpusGenerator& generator, std::size_t lines);

  /// Appends one message. `message` must not contain '\n'.
  void add(std::string_view message);

  std::size_t size() const { return offsets_.size() - 1; }
  bool empty() const { return size() == 0; }
  /// Total bytes of all messages.
  std::size_t bytes() const { return bytes_.size(); }

  /// The message at `index`; precondition `index < size()`. The view lives as long as the corpus.
  std::string_view operator[](std::size_t index) const {
    return {bytes_.data() + offsets_[index], offsets_[index + 1] - offsets_[index]};
  }

 private:
  std::string bytes_;
  std::vector<std::size_t> offsets_{0};
};

}  // namespace sluice::blast
