// SPDX-License-Identifier: Apache-2.0
/// White-box tests of `SyslogFramer` and `split_datagram`: every input is also fed split at
/// every byte position, and byte by byte, and must frame the same.
#include "sluice/ingest/framing.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice {
namespace {

struct Out {
  std::string bytes;
  bool truncated = false;
  std::uint64_t line = 0;
  bool operator==(const Out&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Out& o) {
  return os << "{\"" << o.bytes << "\", " << o.truncated << ", " << o.line << "}";
}

std::vector<Out> frame_pieces(const std::vector<std::string_view>& pieces, std::size_t max,
                              FramingMode mode, bool finish = true) {
  SyslogFramer framer(max, mode);
  std::vector<Out> out;
  auto collect = [&](const Frame& f) {
    out.push_back({std::string(f.bytes), f.truncated, f.line});
  };
  for (auto piece : pieces)
    framer.feed(piece, collect);
  if (finish) framer.finish(collect);
  return out;
}

/// Frames `input` whole, at every split into two pieces, at every split into three, and byte by
/// byte; all must agree. Returns the whole-input result.
std::vector<Out> frame_all_ways(std::string_view input, std::size_t max = 64 * 1024,
                                FramingMode mode = FramingMode::auto_detect) {
  const auto whole = frame_pieces({input}, max, mode);
  for (std::size_t i = 0; i <= input.size(); ++i) {
    const auto two = frame_pieces({input.substr(0, i), input.substr(i)}, max, mode);
    EXPECT_EQ(two, whole) << "split at " << i;
    if (input.size() <= 200) {
      for (std::size_t j = i; j <= input.size(); ++j) {
        const auto three =
            frame_pieces({input.substr(0, i), input.substr(i, j - i), input.substr(j)}, max, mode);
        EXPECT_EQ(three, whole) << "split at " << i << " and " << j;
      }
    }
  }
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < input.size(); ++i)
    bytes.push_back(input.substr(i, 1));
  EXPECT_EQ(frame_pieces(bytes, max, mode), whole) << "byte by byte";
  return whole;
}

TEST(SyslogFramer, LfFraming) {
  const auto out = frame_all_ways("<13>a b\n<14>c\r\n\n<15>last");
  const std::vector<Out> want{{"<13>a b", false, 1}, {"<14>c", false, 2}, {"<15>last", false, 4}};
  EXPECT_EQ(out, want);
}

TEST(SyslogFramer, OctetCounting) {
  const auto out = frame_all_ways("7 <13>abc12 <14>x\ny z w\n4 <1>2\n");
  // The LF counted inside the second frame is framing and removed; the one after the third
  // frame is an empty line.
  const std::vector<Out> want{
      {"<13>abc", false, 0}, {"<14>x\ny z w", false, 0}, {"<1>2", false, 0}};
  EXPECT_EQ(out, want);
}

TEST(SyslogFramer, MixedFramingInOneStream) {
  const auto out = frame_all_ways("<1>lf one\n8 <2>octet<3>lf two\n10 <4>o\nline\n");
  const std::vector<Out> want{{"<1>lf one", false, 1},
                              {"<2>octet", false, 0},
                              {"<3>lf two", false, 2},
                              {"<4>o\nline", false, 0}};
  EXPECT_EQ(out, want);
}

// After one `LEN SP <` frame the stream is known to count octets, so frames whose message
// does not start with a PRI (JSON, PRI-less lines) are still taken by their count.
TEST(SyslogFramer, OctetStreamStaysOctetCounted) {
  const auto out = frame_all_ways("5 <1>ab16 {\"json\":\"value\"}3 xyz");
  const std::vector<Out> want{
      {"<1>ab", false, 0}, {"{\"json\":\"value\"}", false, 0}, {"xyz", false, 0}};
  EXPECT_EQ(out, want);
  // A JSON event may also open an octet-counted stream.
  const auto json_first = frame_all_ways("16 {\"json\":\"value\"}3 xyz");
  const std::vector<Out> want_json{{"{\"json\":\"value\"}", false, 0}, {"xyz", false, 0}};
  EXPECT_EQ(json_first, want_json);
}

TEST(SyslogFramer, DigitsWithoutCountAreLfRecords) {
  const auto out = frame_all_ways("404 Not Found\n12345\n2024-01-01 x\n0 <1>zero\n123");
  const std::vector<Out> want{{"404 Not Found", false, 1},
                              {"12345", false, 2},
                              {"2024-01-01 x", false, 3},
                              {"0 <1>zero", false, 4},
                              {"123", false, 5}};
  EXPECT_EQ(out, want);
}

TEST(SyslogFramer, TenDigitsAreNotACount) {
  const auto out = frame_all_ways("1234567890 <1>x\n");
  const std::vector<Out> want{{"1234567890 <1>x", false, 1}};
  EXPECT_EQ(out, want);
}

TEST(SyslogFramer, OverlongLfLineIsTruncatedAndRestSkipped) {
  const auto out = frame_all_ways("<1>abcdefgh\n<2>ok\n<3>abcdefghijkl", 6);
  const std::vector<Out> want{{"<1>abc", true, 1}, {"<2>ok", false, 2}, {"<3>abc", true, 3}};
  EXPECT_EQ(out, want);
}

TEST(SyslogFramer, LineOfExactlyMaxIsNotTruncated) {
  const auto out = frame_all_ways("<1>abc\n<1>abcd\n<1>ab\r\n", 6);
  const std::vector<Out> want{{"<1>abc", false, 1}, {"<1>abc", true, 2}, {"<1>ab", false, 3}};
  EXPECT_EQ(out, want);
}

TEST(SyslogFramer, OverlongOctetFrameIsTruncatedAndRestSkipped) {
  // The skipped remainder contains an LF and digits: they must not be framed.
  const auto out = frame_all_ways("20 <1>abcdefg\n3 <2>xxxx5 <3>ok<4>lf\n", 8);
  const std::vector<Out> want{{"<1>abcde", true, 0}, {"<3>ok", false, 0}, {"<4>lf", false, 1}};
  EXPECT_EQ(out, want);
}

TEST(SyslogFramer, FinishReportsShortOctetFrame) {
  const auto out = frame_all_ways("10 <1>abc");
  const std::vector<Out> want{{"<1>abc", true, 0}};
  EXPECT_EQ(out, want);
}

TEST(SyslogFramer, WithoutFinishPartialFrameIsHeld) {
  const auto out = frame_pieces({"<1>a\n<2>b"}, 100, FramingMode::auto_detect, false);
  const std::vector<Out> want{{"<1>a", false, 1}};
  EXPECT_EQ(out, want);
}

TEST(SyslogFramer, LfOnlyModeIgnoresCounts) {
  const auto out = frame_all_ways("5 <1>abc\n\nthird\r\nfourth", 64, FramingMode::lf_only);
  const std::vector<Out> want{{"5 <1>abc", false, 1}, {"third", false, 3}, {"fourth", false, 4}};
  EXPECT_EQ(out, want);
}

TEST(SyslogFramer, ResyncSkipsToNextLine) {
  SyslogFramer framer(100);
  std::vector<std::string> out;
  auto collect = [&](const Frame& f) { out.emplace_back(f.bytes); };
  framer.feed("<1>first\n<2>par", collect);
  framer.resync();
  framer.feed("tial\n<3>next\n", collect);
  framer.finish(collect);
  EXPECT_EQ(out, (std::vector<std::string>{"<1>first", "<3>next"}));
}

TEST(SyslogFramer, ViewsInputWhenFrameFitsOneCall) {
  SyslogFramer framer(100);
  const std::string input = "<1>a\n5 <2>bc";
  std::vector<const char*> starts;
  framer.feed(input, [&](const Frame& f) { starts.push_back(f.bytes.data()); });
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_EQ(starts[0], input.data());
  EXPECT_EQ(starts[1], input.data() + 7);
}

TEST(SyslogFramer, RandomStreamsAgreeWithReference) {
  // Builds streams of random records in random framings and checks the framer recovers them.
  std::uint64_t state = 42;
  auto next = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::uint32_t>(state >> 33);
  };
  for (int round = 0; round < 200; ++round) {
    std::string stream;
    std::vector<Out> want;
    const std::size_t max = 8 + next() % 40;
    std::uint64_t line = 0;
    const int n = 1 + static_cast<int>(next() % 8);
    for (int i = 0; i < n; ++i) {
      // Appends rather than chained operator+: GCC 12 warns falsely on the latter (PR 105651).
      std::string msg = "<";
      msg.append(std::to_string(next() % 192)).append(">");
      const std::size_t len = next() % 60;
      for (std::size_t k = 0; k < len; ++k)
        msg += static_cast<char>('a' + next() % 26);
      if (next() % 2 == 0) {
        stream.append(std::to_string(msg.size())).append(" ").append(msg);
        want.push_back({msg.substr(0, std::min(msg.size(), max)), msg.size() > max, 0});
      } else {
        stream.append(msg).append("\n");
        ++line;
        want.push_back({msg.substr(0, std::min(msg.size(), max)), msg.size() > max, line});
      }
    }
    EXPECT_EQ(frame_all_ways(stream, max), want) << stream;
  }
}

std::vector<std::string> split_all(std::string_view payload, bool split) {
  std::vector<std::string> out;
  split_datagram(payload, split, [&](std::string_view r) { out.emplace_back(r); });
  return out;
}

TEST(SplitDatagram, StripsTrailingFraming) {
  EXPECT_EQ(split_all("<1>a\n", true), std::vector<std::string>{"<1>a"});
  EXPECT_EQ(split_all("<1>a\r\n", true), std::vector<std::string>{"<1>a"});
  EXPECT_EQ(split_all(std::string_view("<1>a\n\0", 6), true), std::vector<std::string>{"<1>a"});
  EXPECT_TRUE(split_all("\n\r\n", true).empty());
  EXPECT_TRUE(split_all("", true).empty());
}

TEST(SplitDatagram, SplitsOnlyBeforeAPri) {
  EXPECT_EQ(split_all("<1>a\n<2>b\r\n<3>c\n", true),
            (std::vector<std::string>{"<1>a", "<2>b", "<3>c"}));
  EXPECT_EQ(split_all("<1>trace\n  at x\n<2>b", true),
            (std::vector<std::string>{"<1>trace\n  at x", "<2>b"}));
  EXPECT_EQ(split_all("<1>a\n<2>b", false), std::vector<std::string>{"<1>a\n<2>b"});
  EXPECT_EQ(split_all("\n<1>a", true), std::vector<std::string>{"<1>a"});
}

}  // namespace
}  // namespace sluice
