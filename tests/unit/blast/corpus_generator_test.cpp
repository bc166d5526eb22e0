// SPDX-License-Identifier: Apache-2.0
#include "sluice/blast/corpus_generator.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace sluice::blast {
namespace {

std::vector<std::string> take(CorpusGenerator& generator, std::size_t n) {
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < n; ++i)
    lines.emplace_back(generator.next());
  return lines;
}

bool any_contains(const std::vector<std::string>& lines, std::string_view needle) {
  for (const auto& line : lines) {
    if (line.find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST(CorpusGenerator, SameSeedSameCorpus) {
  CorpusGenerator a;
  CorpusGenerator b;
  EXPECT_EQ(take(a, 5000), take(b, 5000));
}

TEST(CorpusGenerator, DifferentSeedDifferentCorpus) {
  CorpusOptions options;
  options.seed = 2;
  CorpusGenerator a;
  CorpusGenerator b(options);
  EXPECT_NE(take(a, 100), take(b, 100));
}

TEST(CorpusGenerator, LinesAreSingleLinesWithAHeader) {
  CorpusGenerator generator;
  for (int i = 0; i < 20000; ++i) {
    const auto line = generator.next();
    ASSERT_FALSE(line.empty());
    ASSERT_EQ(line.find('\n'), std::string_view::npos) << line;
    ASSERT_EQ(line.find('\r'), std::string_view::npos) << line;
    // Syslog lines start with a PRI (RFC 3164 4.1.1, RFC 5424 6.2.1); JSON lines with '{'.
    ASSERT_TRUE(line.front() == '<' || line.front() == '{') << line;
    if (line.front() == '<') {
      const auto close = line.find('>');
      ASSERT_NE(close, std::string_view::npos) << line;
      const int pri = std::stoi(std::string(line.substr(1, close - 1)));
      ASSERT_GE(pri, 0);
      ASSERT_LE(pri, 191);
    }
  }
}

TEST(CorpusGenerator, CoversEveryFamily) {
  CorpusGenerator generator;
  const auto lines = take(generator, 20000);
  for (const std::string_view needle :
       {" sshd[", " sudo: ", "COMMAND=", " CRON[",
        " systemd[1]: ", " kernel: ", "SRC=", "PROTO=", " nginx: ", " apache2 ", " postfix/",
        "type=EXECVE", "type=SYSCALL", "CEF:0|", "{\"ts\":", ">1 2024-03-11T"}) {
    EXPECT_TRUE(any_contains(lines, needle)) << needle;
  }
}

TEST(CorpusGenerator, MixesInEveryAttackAtALowRate) {
  CorpusGenerator generator;
  const auto lines = take(generator, 200000);
  for (const std::string_view needle :
       {"Failed password for root from ", "Failed password for invalid user ", "Invalid user ",
        "sqlmap/", "../../etc/passwd", "<script>", "bash -i >& /dev/tcp/", "nc -e /bin/sh",
        "/etc/shadow", "useradd", "/var/spool/cron/crontabs/root", "history -c",
        "rm -f /var/log/"}) {
    EXPECT_TRUE(any_contains(lines, needle)) << needle;
  }
  const double attack_share =
      static_cast<double>(generator.attack_lines()) / static_cast<double>(generator.lines());
  EXPECT_GT(attack_share, 0.001);
  EXPECT_LT(attack_share, 0.05);
  EXPECT_EQ(generator.lines(), 200000u);
}

TEST(CorpusGenerator, EventTimeNeverGoesBackwards) {
  CorpusGenerator generator;
  std::string previous;
  for (int i = 0; i < 20000; ++i) {
    const auto line = generator.next();
    const auto at = line.find(">1 ");
    if (at == std::string_view::npos) continue;
    // RFC 5424 timestamps with fixed-width fields compare as text.
    const std::string stamp(line.substr(at + 3, 24));
    EXPECT_GE(stamp, previous);
    previous = stamp;
  }
  EXPECT_FALSE(previous.empty());
}

}  // namespace
}  // namespace sluice::blast
