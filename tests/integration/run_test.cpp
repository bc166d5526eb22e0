// SPDX-License-Identifier: Apache-2.0
/// End-to-end tests of `sluice run`: the real binary on 127.0.0.1 ports, real UDP and TCP
/// senders (both TCP framings, on one listener and within one connection), then SIGTERM; every
/// message must arrive intact exactly once and the counters must add up.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <thread>

#include "sluice/store/segment_reader.hpp"
#include "tests_support.hpp"

namespace sluice::test {
namespace {

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

/// Sum of every sample of a metric in Prometheus text.
double metric_sum(const std::string& text, const std::string& name) {
  double sum = 0;
  std::size_t pos = 0;
  while ((pos = text.find("\n" + name, pos)) != std::string::npos) {
    pos += 1;
    const auto eol = text.find('\n', pos);
    const auto line = text.substr(pos, eol - pos);
    const auto after = line.substr(name.size());
    if (!after.empty() && after[0] != ' ' && after[0] != '{') continue;
    sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

bool send_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const auto n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

int tcp_connect(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  auto a = loopback(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string message(const std::string& via, int i) {
  return "<34>Nov 28 06:55:46 host-" + via + " app[" + std::to_string(i) + "]: msg " + via + "-" +
         std::to_string(i) + " user=alice action=\"log in\"";
}

class RunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = free_port();
    metrics_port_ = free_port();
    ASSERT_NE(port_, 0);
    config_ = dir_.path() / "sluice.toml";
    std::ofstream(config_) << "[general]\nworkers = 2\nsummary_interval_seconds = 0.2\n"
                           << "[[input]]\ntype = \"udp\"\nport = " << port_ << "\n"
                           << "[[input]]\ntype = \"tcp\"\nport = " << port_ << "\n"
                           << "max_message_bytes = 4096\n"
                           << "[output.events]\npath = \""
                           << (dir_.path() / "events.jsonl").string() << "\"\n[store]\npath = \""
                           << (dir_.path() / "store").string() << "\"\nfsync = \"none\"\n"
                           << "[metrics]\nlisten = \"127.0.0.1:" << metrics_port_ << "\"\n";
    process_ = std::make_unique<Process>(
        std::vector<std::string>{sluice_binary().string(), "run", "--config", config_.string()},
        dir_.path() / "stdout", dir_.path() / "stderr");
    for (int i = 0; i < 200 && http_get(metrics_port_, "/healthz").empty(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    ASSERT_FALSE(http_get(metrics_port_, "/healthz").empty())
        << "sluice run did not come up: " << read_file(dir_.path() / "stderr");
  }

  /// Waits until /metrics shows `expected` records read, or 20 s.
  void wait_for_records(double expected) {
    for (int i = 0; i < 400; ++i) {
      if (metric_sum(http_get(metrics_port_, "/metrics"), "sluice_source_records_total") >=
          expected)
        return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  /// SIGTERM, wait, and return the final stats object (last stderr line).
  std::string stop() {
    process_->signal(SIGTERM);
    EXPECT_EQ(process_->wait(30'000), 0) << read_file(dir_.path() / "stderr");
    const auto lines = split_lines(read_file(dir_.path() / "stderr"));
    return lines.empty() ? std::string() : lines.back();
  }

  TempDir dir_;
  std::uint16_t port_ = 0;
  std::uint16_t metrics_port_ = 0;
  std::filesystem::path config_;
  std::unique_ptr<Process> process_;
};

TEST_F(RunTest, UdpAndBothTcpFramingsArriveIntactAndCountersAddUp) {
  constexpr int per_channel = 3000;
  std::map<std::string, int> expected;

  // UDP: one datagram per message, paced a little so the loopback never overflows.
  const int udp = ::socket(AF_INET, SOCK_DGRAM, 0);
  auto to = loopback(port_);
  for (int i = 0; i < per_channel; ++i) {
    const auto m = message("udp", i);
    ASSERT_EQ(::sendto(udp, m.data(), m.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
              static_cast<ssize_t>(m.size()));
    ++expected[m];
    if (i % 200 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::close(udp);

  // TCP, octet counting (RFC 6587 §3.4.1), written in large chunks.
  {
    const int fd = tcp_connect(port_);
    ASSERT_GE(fd, 0);
    std::string chunk;
    for (int i = 0; i < per_channel; ++i) {
      const auto m = message("octet", i);
      chunk += std::to_string(m.size()) + " " + m;
      ++expected[m];
    }
    ASSERT_TRUE(send_all(fd, chunk));
    ::close(fd);
  }
  // TCP, LF framing (RFC 6587 §3.4.2), on the same listener; the last frame has no LF.
  {
    const int fd = tcp_connect(port_);
    ASSERT_GE(fd, 0);
    std::string chunk;
    for (int i = 0; i < per_channel; ++i) {
      const auto m = message("lf", i);
      chunk += m;
      if (i + 1 < per_channel) chunk += "\n";
      ++expected[m];
    }
    ASSERT_TRUE(send_all(fd, chunk));
    ::close(fd);
  }
  // Both framings mixed within one connection, sent byte-split across writes.
  {
    const int fd = tcp_connect(port_);
    ASSERT_GE(fd, 0);
    std::string chunk;
    for (int i = 0; i < 500; ++i) {
      const auto m = message("mixed", i);
      chunk += (i % 2 == 0) ? std::to_string(m.size()) + " " + m : m + "\n";
      ++expected[m];
    }
    for (std::size_t off = 0; off < chunk.size(); off += 777) {
      ASSERT_TRUE(send_all(fd, chunk.substr(off, 777)));
    }
    ::close(fd);
  }
  const double total = 3 * per_channel + 500;
  wait_for_records(total);
  const auto metrics = http_get(metrics_port_, "/metrics");
  EXPECT_NE(metrics.find("sluice_events_parsed_total"), std::string::npos);
  EXPECT_NE(metrics.find("sluice_events_dropped_total{reason=\"ring_full\"}"), std::string::npos);
  const auto stats_line = stop();

  simdjson::dom::parser parser;
  auto stats = parser.parse(stats_line);
  ASSERT_EQ(stats.error(), simdjson::SUCCESS) << stats_line;
  const auto events = uint64_t(stats["events"]);
  const auto parsed = uint64_t(stats["parsed"]);
  const auto unparsed = uint64_t(stats["unparsed"]);
  const auto dropped = uint64_t(stats["dropped"]);
  EXPECT_EQ(events, parsed + unparsed + dropped) << stats_line;
  EXPECT_EQ(events, static_cast<std::uint64_t>(total)) << stats_line;
  EXPECT_EQ(dropped, 0u) << "loopback at this pace should not drop: " << stats_line;
  EXPECT_EQ(unparsed, 0u) << stats_line;

  // Every message arrived exactly once, byte for byte, with its fields.
  std::map<std::string, int> seen;
  std::ifstream in(dir_.path() / "events.jsonl");
  simdjson::dom::parser line_parser;
  for (std::string line; std::getline(in, line);) {
    auto doc = line_parser.parse(line);
    ASSERT_EQ(doc.error(), simdjson::SUCCESS) << line;
    std::string_view host = doc["host.name"];
    std::string_view msg = doc["message"];
    std::string_view user = doc["sluice.fields"]["user"];
    EXPECT_EQ(user, "alice");
    EXPECT_EQ(std::string_view(doc["sluice.fields"]["action"]), "log in");
    EXPECT_EQ(std::string_view(doc["source.ip"]), "127.0.0.1");
    const auto pid = int64_t(doc["process.pid"]);
    const std::string via(host.substr(5));
    ++seen["<34>Nov 28 06:55:46 " + std::string(host) + " app[" + std::to_string(pid) +
           "]: " + std::string(msg)];
    (void)via;
  }
  EXPECT_EQ(seen.size(), expected.size());
  // The store holds the same events.
  auto reader = sluice::StoreReader::open(dir_.path() / "store");
  ASSERT_TRUE(reader.has_value()) << reader.error().message;
  sluice::Arena arena;
  std::map<std::string, int> stored;
  reader.value().for_each(arena, [&](const sluice::StoredEvent& e) {
    ++stored[std::string(e.event.raw)];
    return true;
  });
  EXPECT_EQ(stored, expected) << "the store keeps every event exactly once";
  for (const auto& [m, n] : expected) {
    auto it = seen.find(m);
    ASSERT_NE(it, seen.end()) << "missing: " << m;
    EXPECT_EQ(it->second, 1) << "duplicated: " << m;
  }
}

TEST_F(RunTest, OversizedTcpMessageIsTruncatedAndCounted) {
  const int fd = tcp_connect(port_);
  ASSERT_GE(fd, 0);
  const std::string big = "<13>Nov 28 06:55:46 host app: " + std::string(10000, 'A');
  const std::string small = "<13>Nov 28 06:55:46 host app: after";
  ASSERT_TRUE(send_all(fd, big + "\n" + small + "\n"));
  ::close(fd);
  wait_for_records(2);
  const auto metrics = http_get(metrics_port_, "/metrics");
  EXPECT_EQ(metric_sum(metrics, "sluice_source_truncated_total"), 1) << metrics;
  const auto stats_line = stop();
  EXPECT_NE(stats_line.find("\"truncated\":1"), std::string::npos) << stats_line;
  const auto events = read_file(dir_.path() / "events.jsonl");
  EXPECT_NE(events.find("\"sluice.truncated\":true"), std::string::npos);
  EXPECT_NE(events.find("\"message\":\"after\""), std::string::npos) << "framing resumed";
}

TEST(RunConfig, ErrorsNameKeyAndLineAndExitTwo) {
  TempDir dir;
  const auto config = dir.path() / "bad.toml";
  std::ofstream(config) << "[[input]]\ntype = \"udp\"\nport = 99999\n";
  std::string out, err;
  EXPECT_EQ(run_command({sluice_binary().string(), "run", "--config", config.string()}, out, err),
            2);
  EXPECT_NE(err.find("bad.toml:3: input[0].port"), std::string::npos) << err;
}

TEST(RunConfig, PortInUseIsAClearError) {
  const auto port = free_port();
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  auto a = loopback(port);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  TempDir dir;
  const auto config = dir.path() / "c.toml";
  std::ofstream(config) << "[[input]]\ntype = \"tcp\"\nport = " << port
                        << "\n[metrics]\nlisten = \"\"\n";
  std::string out, err;
  EXPECT_EQ(run_command({sluice_binary().string(), "run", "--config", config.string()}, out, err),
            1);
  EXPECT_NE(err.find(std::to_string(port)), std::string::npos) << err;
  ::close(fd);
}

}  // namespace
}  // namespace sluice::test
