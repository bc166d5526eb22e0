// SPDX-License-Identifier: Apache-2.0
/// Sends over loopback to sockets the test owns and checks that every message arrives intact
/// and is counted once. Asserts on counts and bytes only, never on timing.
#include "sluice/blast/sender.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace sluice::blast {
namespace {

/// A socket bound to 127.0.0.1 on a free port.
struct Listener {
  int fd = -1;
  std::uint16_t port = 0;
  explicit Listener(int type) {
    fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    EXPECT_GE(fd, 0);
    const int bytes = 8 << 20;
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0) {
      ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    port = ntohs(address.sin_port);
    if (type == SOCK_STREAM) {
      EXPECT_EQ(::listen(fd, 16), 0);
    }
  }
  ~Listener() { ::close(fd); }
  Endpoint endpoint() const {
    auto endpoint = parse_endpoint("127.0.0.1:" + std::to_string(port));
    EXPECT_TRUE(endpoint.has_value());
    return std::move(endpoint).value();
  }
};

Corpus small_corpus() {
  Corpus corpus;
  for (int i = 0; i < 100; ++i) {
    corpus.add("<13>Mar 11 08:00:00 host app: message number " + std::to_string(i) +
               std::string(static_cast<std::size_t>(i), 'x'));
  }
  return corpus;
}

/// Splits one TCP stream into messages.
std::vector<std::string> unframe(const std::string& stream, Framing framing) {
  std::vector<std::string> messages;
  std::size_t at = 0;
  while (at < stream.size()) {
    if (framing == Framing::lf) {
      const auto end = stream.find('\n', at);
      EXPECT_NE(end, std::string::npos);
      if (end == std::string::npos) break;
      messages.push_back(stream.substr(at, end - at));
      at = end + 1;
    } else {
      const auto space = stream.find(' ', at);
      EXPECT_NE(space, std::string::npos);
      if (space == std::string::npos) break;
      const auto length = std::stoul(stream.substr(at, space - at));
      messages.push_back(stream.substr(space + 1, length));
      at = space + 1 + length;
    }
  }
  return messages;
}

TEST(ParseEndpoint, AcceptsNumericV4AndV6) {
  auto v4 = parse_endpoint("127.0.0.1:5514");
  ASSERT_TRUE(v4.has_value());
  EXPECT_EQ(v4->address.ss_family, AF_INET);
  auto v6 = parse_endpoint("[::1]:5514");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->address.ss_family, AF_INET6);
}

TEST(ParseEndpoint, RejectsWithTheReason) {
  for (const char* bad : {"127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "localhost:5514",
                          "::1:5514", "[::1]5514", "127.0.0.1:55x"}) {
    auto endpoint = parse_endpoint(bad);
    ASSERT_FALSE(endpoint.has_value()) << bad;
    EXPECT_NE(endpoint.error().message.find(bad), std::string::npos) << bad;
  }
}

TEST(SendCorpus, UdpDeliversEveryMessageOnce) {
  Listener listener(SOCK_DGRAM);
  const auto corpus = small_corpus();
  SendOptions options;
  options.protocol = Protocol::udp;
  options.endpoint = listener.endpoint();
  options.loop = true;
  options.count = 1000;
  // Paced so that a busy test machine cannot overflow the receive buffer.
  options.rate_per_second = 50000;
  options.connections = 2;

  std::map<std::string, int> received;
  std::thread receiver([&] {
    timeval timeout{2, 0};
    ::setsockopt(listener.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    char buffer[65536];
    for (int i = 0; i < 1000; ++i) {
      const auto n = ::recv(listener.fd, buffer, sizeof buffer, 0);
      if (n < 0) break;
      ++received[std::string(buffer, static_cast<std::size_t>(n))];
    }
  });
  auto stats = send_corpus(corpus, options);
  receiver.join();
  ASSERT_TRUE(stats.has_value()) << stats.error().message;
  EXPECT_EQ(stats->sent, 1000u);
  EXPECT_EQ(stats->errors, 0u);
  EXPECT_EQ(stats->bytes, 10 * corpus.bytes());
  EXPECT_TRUE(stats->failure.empty()) << stats->failure;
  // 1000 messages over a corpus of 100: each one exactly ten times.
  ASSERT_EQ(received.size(), corpus.size());
  for (std::size_t i = 0; i < corpus.size(); ++i) {
    EXPECT_EQ(received[std::string(corpus[i])], 10) << corpus[i];
  }
}

void check_tcp(Framing framing, unsigned connections) {
  Listener listener(SOCK_STREAM);
  const auto corpus = small_corpus();
  SendOptions options;
  options.protocol = Protocol::tcp;
  options.endpoint = listener.endpoint();
  options.framing = framing;
  options.connections = connections;
  // Small writes so that messages straddle write boundaries.
  options.tcp_write_bytes = 700;

  std::vector<std::string> streams(connections);
  std::thread receiver([&] {
    std::vector<std::thread> readers;
    for (unsigned c = 0; c < connections; ++c) {
      const int fd = ::accept(listener.fd, nullptr, nullptr);
      ASSERT_GE(fd, 0);
      readers.emplace_back([fd, &stream = streams[c]] {
        char buffer[4096];
        ssize_t n = 0;
        while ((n = ::read(fd, buffer, sizeof buffer)) > 0) {
          stream.append(buffer, static_cast<std::size_t>(n));
        }
        ::close(fd);
      });
    }
    for (auto& reader : readers)
      reader.join();
  });
  auto stats = send_corpus(corpus, options);
  receiver.join();
  ASSERT_TRUE(stats.has_value()) << stats.error().message;
  // Without --loop the corpus goes out exactly once, spread over the connections.
  EXPECT_EQ(stats->sent, corpus.size());
  EXPECT_EQ(stats->bytes, corpus.bytes());
  EXPECT_EQ(stats->errors, 0u);
  std::vector<std::string> all;
  for (const auto& stream : streams) {
    const auto messages = unframe(stream, framing);
    all.insert(all.end(), messages.begin(), messages.end());
  }
  std::vector<std::string> expected;
  for (std::size_t i = 0; i < corpus.size(); ++i)
    expected.emplace_back(corpus[i]);
  std::sort(all.begin(), all.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(all, expected);
}

TEST(SendCorpus, TcpOctetCountingOneConnection) {
  check_tcp(Framing::octet_counting, 1);
}
TEST(SendCorpus, TcpLfThreeConnections) {
  check_tcp(Framing::lf, 3);
}
TEST(SendCorpus, TcpOctetCountingThreeConnections) {
  check_tcp(Framing::octet_counting, 3);
}

TEST(SendCorpus, ConnectFailureNamesTheEndpoint) {
  // Bind a port, close it, then connect to it: refused.
  std::uint16_t port = 0;
  {
    Listener listener(SOCK_STREAM);
    port = listener.port;
  }
  const auto corpus = small_corpus();
  SendOptions options;
  options.protocol = Protocol::tcp;
  auto endpoint = parse_endpoint("127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(endpoint.has_value());
  options.endpoint = std::move(endpoint).value();
  auto stats = send_corpus(corpus, options);
  ASSERT_FALSE(stats.has_value());
  EXPECT_NE(stats.error().message.find("127.0.0.1:" + std::to_string(port)), std::string::npos);
}

TEST(SendStats, JsonLine) {
  SendStats stats;
  stats.sent = 10;
  stats.bytes = 1000;
  stats.seconds = 2;
  stats.errors = 1;
  EXPECT_EQ(to_json(stats), R"({"sent":10,"bytes":1000,"seconds":2.000000,"rate":5.0,"errors":1})");
}

}  // namespace
}  // namespace sluice::blast
