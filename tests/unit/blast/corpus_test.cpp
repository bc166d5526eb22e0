// SPDX-License-Identifier: Apache-2.0
#include "sluice/blast/corpus.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <vector>

namespace sluice::blast {
namespace {

TEST(Corpus, AddAndIndex) {
  Corpus corpus;
  EXPECT_TRUE(corpus.empty());
  corpus.add("one");
  corpus.add("");
  corpus.add("three");
  ASSERT_EQ(corpus.size(), 3u);
  EXPECT_EQ(corpus[0], "one");
  EXPECT_EQ(corpus[1], "");
  EXPECT_EQ(corpus[2], "three");
  EXPECT_EQ(corpus.bytes(), 8u);
}

TEST(Corpus, FromFilesSkipsEmptyLinesAndCarriageReturns) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("sluice_corpus_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "a.log") << "first\r\n\nsecond\n";
    std::ofstream(dir / "b.log") << "third";
  }
  const std::vector<std::filesystem::path> paths{dir / "a.log", dir / "b.log"};
  auto corpus = Corpus::from_files(paths);
  ASSERT_TRUE(corpus.has_value()) << corpus.error().message;
  ASSERT_EQ(corpus->size(), 3u);
  EXPECT_EQ((*corpus)[0], "first");
  EXPECT_EQ((*corpus)[1], "second");
  EXPECT_EQ((*corpus)[2], "third");
  std::filesystem::remove_all(dir);
}

TEST(Corpus, MissingFileNamesThePath) {
  const std::vector<std::filesystem::path> paths{"/nonexistent/sluice/corpus.log"};
  auto corpus = Corpus::from_files(paths);
  ASSERT_FALSE(corpus.has_value());
  EXPECT_NE(corpus.error().message.find("/nonexistent/sluice/corpus.log"), std::string::npos);
}

TEST(Corpus, GenerateMatchesTheGenerator) {
  CorpusGenerator a;
  CorpusGenerator b;
  const auto corpus = Corpus::generate(a, 1000);
  ASSERT_EQ(corpus.size(), 1000u);
  for (std::size_t i = 0; i < corpus.size(); ++i)
    ASSERT_EQ(corpus[i], b.next());
}

}  // namespace
}  // namespace sluice::blast
