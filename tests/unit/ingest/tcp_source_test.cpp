// SPDX-License-Identifier: Apache-2.0
/// `TcpSource` on real sockets on the loopback interface (port 0): both RFC 6587 framings on
/// one listener and within one connection, many concurrent connections, truncation, close.
#include "sluice/ingest/tcp_source.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#include "source_runner.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace sluice {
namespace {

using test::Runner;
using test::wait_for;

using namespace std::chrono_literals;

struct Record {
  std::string raw;
  PeerAddress peer;
  std::uint8_t flags = 0;
};

/// A real sink that keeps every record.
class CollectingSink final : public BatchSink {
 public:
  bool push(BatchPtr batch) override {
    std::lock_guard lock(mutex_);
    for (const auto& e : batch->events())
      records_.push_back({std::string(e.raw), e.peer, e.flags});
    return true;
  }
  std::size_t size() {
    std::lock_guard lock(mutex_);
    return records_.size();
  }
  std::vector<Record> records() {
    std::lock_guard lock(mutex_);
    return records_;
  }

 private:
  std::mutex mutex_;
  std::vector<Record> records_;
};

int connect_to(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    ::close(fd);
    return -1;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::uint16_t local_port_of(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

TcpSourceConfig loopback_config() {
  TcpSourceConfig c;
  c.address = "127.0.0.1";
  c.port = 0;
  return c;
}

std::string octet(std::string_view msg) {
  std::string out = std::to_string(msg.size());
  out.push_back(' ');
  out.append(msg);
  return out;
}

TEST(TcpSource, OpensOnPortZero) {
  TcpSource source(loopback_config());
  ASSERT_TRUE(source.open().has_value());
  EXPECT_NE(source.local_port(), 0);
  EXPECT_EQ(source.backpressure(), Backpressure::block);
  EXPECT_FALSE(source.finite());
}

TEST(TcpSource, ManyConcurrentConnectionsMixedFramingEveryMessageOnce) {
  TcpSource source(loopback_config());
  ASSERT_TRUE(source.open().has_value());
  CollectingSink sink;
  Runner runner(source, sink);

  constexpr int clients = 24;
  constexpr int per_client = 400;
  std::vector<std::uint16_t> client_ports(clients);
  std::vector<std::thread> threads;
  for (int k = 0; k < clients; ++k) {
    threads.emplace_back([&, k] {
      const int fd = connect_to(source.local_port());
      ASSERT_GE(fd, 0);
      client_ports[k] = local_port_of(fd);
      std::mt19937 rng(static_cast<unsigned>(k));
      // The whole stream, both framings mixed, written in random-sized pieces so frames are
      // split across reads at arbitrary positions.
      std::string stream;
      for (int i = 0; i < per_client; ++i) {
        std::string msg = "<13>Oct 11 22:14:15 host app[" + std::to_string(k) + "]: msg " +
                          std::to_string(i) + std::string(rng() % 200, 'x');
        if (rng() % 2 == 0) {
          stream += octet(msg);
        } else {
          stream += msg;
          stream += (rng() % 3 == 0) ? "\r\n" : "\n";
        }
      }
      std::size_t at = 0;
      while (at < stream.size()) {
        const std::size_t n = std::min<std::size_t>(1 + rng() % 3000, stream.size() - at);
        ASSERT_TRUE(send_all(fd, std::string_view(stream).substr(at, n)));
        at += n;
      }
      ::close(fd);
    });
  }
  for (auto& t : threads)
    t.join();
  ASSERT_TRUE(wait_for([&] { return sink.size() >= clients * per_client; }));
  std::this_thread::sleep_for(50ms);
  runner.stop();
  EXPECT_TRUE(runner.ok());

  const auto records = sink.records();
  ASSERT_EQ(records.size(), static_cast<std::size_t>(clients * per_client));
  // Rebuild what each client sent and compare per connection, in order.
  std::map<std::uint16_t, std::vector<std::string>> by_port;
  for (const auto& r : records) {
    EXPECT_EQ(r.peer.address_string(), "127.0.0.1");
    EXPECT_EQ(r.flags, 0);
    by_port[r.peer.port].push_back(r.raw);
  }
  ASSERT_EQ(by_port.size(), static_cast<std::size_t>(clients));
  for (int k = 0; k < clients; ++k) {
    std::mt19937 rng(static_cast<unsigned>(k));
    const auto& got = by_port[client_ports[k]];
    ASSERT_EQ(got.size(), static_cast<std::size_t>(per_client)) << "client " << k;
    for (int i = 0; i < per_client; ++i) {
      std::string msg = "<13>Oct 11 22:14:15 host app[" + std::to_string(k) + "]: msg " +
                        std::to_string(i) + std::string(rng() % 200, 'x');
      if (rng() % 2 != 0) (void)rng();
      EXPECT_EQ(got[i], msg) << "client " << k << " message " << i;
    }
  }
  EXPECT_EQ(runner.counters().connections.value(), static_cast<std::uint64_t>(clients));
  EXPECT_EQ(runner.counters().records.value(), static_cast<std::uint64_t>(clients * per_client));
  EXPECT_EQ(runner.counters().truncated.value(), 0u);
}

TEST(TcpSource, OversizedMessagesAreTruncatedCountedAndSkipped) {
  TcpSourceConfig c = loopback_config();
  c.max_message_bytes = 100;
  TcpSource source(c);
  ASSERT_TRUE(source.open().has_value());
  CollectingSink sink;
  Runner runner(source, sink);
  const int fd = connect_to(source.local_port());
  ASSERT_GE(fd, 0);
  const std::string long_lf = "<1>" + std::string(5000, 'L');
  const std::string long_octet = "<2>" + std::string(70000, 'O') + "\n<9>inside\n";
  std::string stream = long_lf + "\n<3>after lf\n" + octet(long_octet) + "<4>after octet\n" +
                       octet("<5>exactly") + "<6>" + std::string(97, 'e') + "\n";
  ASSERT_TRUE(send_all(fd, stream));
  ::close(fd);
  ASSERT_TRUE(wait_for([&] { return sink.size() >= 6; }));
  std::this_thread::sleep_for(50ms);
  runner.stop();
  const auto records = sink.records();
  ASSERT_EQ(records.size(), 6u);
  EXPECT_EQ(records[0].raw, long_lf.substr(0, 100));
  EXPECT_EQ(records[0].flags, event_flag_truncated);
  EXPECT_EQ(records[1].raw, "<3>after lf");
  EXPECT_EQ(records[2].raw, long_octet.substr(0, 100));
  EXPECT_EQ(records[2].flags, event_flag_truncated);
  EXPECT_EQ(records[3].raw, "<4>after octet");
  EXPECT_EQ(records[4].raw, "<5>exactly");
  EXPECT_EQ(records[5].raw, "<6>" + std::string(97, 'e'));
  EXPECT_EQ(records[5].flags, 0);
  EXPECT_EQ(runner.counters().truncated.value(), 2u);
  EXPECT_EQ(runner.counters().bytes.value(), stream.size());
}

TEST(TcpSource, CloseFlushesUnterminatedFrame) {
  TcpSource source(loopback_config());
  ASSERT_TRUE(source.open().has_value());
  CollectingSink sink;
  Runner runner(source, sink);
  const int fd = connect_to(source.local_port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(send_all(fd, "<1>first\n<2>unterminated"));
  ASSERT_TRUE(wait_for([&] { return sink.size() >= 1; }));
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(sink.size(), 1u) << "an unterminated frame waits for its LF or the close";
  ::close(fd);
  ASSERT_TRUE(wait_for([&] { return sink.size() >= 2; }));
  runner.stop();
  const auto records = sink.records();
  EXPECT_EQ(records[1].raw, "<2>unterminated");
}

TEST(TcpSource, StopHandsOutOpenConnectionsFrames) {
  TcpSource source(loopback_config());
  ASSERT_TRUE(source.open().has_value());
  CollectingSink sink;
  Runner runner(source, sink, 1000);
  const int fd = connect_to(source.local_port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(send_all(fd, "<1>complete\n<2>partial"));
  ASSERT_TRUE(wait_for([&] { return runner.counters().bytes.value() >= 22; }));
  runner.stop();
  EXPECT_TRUE(runner.ok());
  const auto records = sink.records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].raw, "<1>complete");
  EXPECT_EQ(records[1].raw, "<2>partial");
  ::close(fd);
}

TEST(TcpSource, ConnectionLimitRefusesExtraConnections) {
  TcpSourceConfig c = loopback_config();
  c.max_connections = 2;
  TcpSource source(c);
  ASSERT_TRUE(source.open().has_value());
  CollectingSink sink;
  Runner runner(source, sink);
  const int a = connect_to(source.local_port());
  const int b = connect_to(source.local_port());
  ASSERT_TRUE(wait_for([&] { return runner.counters().connections.value() == 2; }));
  const int extra = connect_to(source.local_port());
  ASSERT_TRUE(wait_for([&] { return runner.counters().errors.value() == 1; }));
  // The refused connection sees end of stream.
  char byte = 0;
  EXPECT_EQ(::recv(extra, &byte, 1, 0), 0);
  ASSERT_TRUE(send_all(a, "<1>a\n"));
  ASSERT_TRUE(wait_for([&] { return sink.size() >= 1; }));
  runner.stop();
  ::close(a);
  ::close(b);
  ::close(extra);
}

/// A sink that holds the source inside `push` until released, as a full ring does.
class GateSink final : public BatchSink {
 public:
  bool push(BatchPtr batch) override {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return open_; });
    records_ += batch->size();
    return true;
  }
  void open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    cv_.notify_all();
  }
  std::size_t records() {
    std::lock_guard lock(mutex_);
    return records_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool open_ = false;
  std::size_t records_ = 0;
};

TEST(TcpSource, BlockedSinkPushesBackOnSendersWithoutLoss) {
  TcpSource source(loopback_config());
  ASSERT_TRUE(source.open().has_value());
  GateSink sink;
  SourceCounters counters;
  SourceContext ctx;
  ctx.sink = &sink;
  ctx.counters = &counters;
  ctx.batch_capacity = 16;
  std::jthread thread([&](std::stop_token st) {
    ctx.stop = st;
    (void)source.run(ctx);
  });
  const int fd = connect_to(source.local_port());
  ASSERT_GE(fd, 0);
  // 20 MB: more than loopback socket buffers hold, so the writer must stall.
  constexpr int total = 100000;
  std::atomic<int> sent{0};
  std::thread writer([&] {
    for (int i = 0; i < total; ++i) {
      if (!send_all(fd, "<1>" + std::string(200, 'p') + "\n")) return;
      sent = i + 1;
    }
  });
  // While the sink is closed the sender stalls: TCP flow control, not loss.
  std::this_thread::sleep_for(300ms);
  EXPECT_LT(sent.load(), total);
  sink.open();
  writer.join();
  ::close(fd);
  ASSERT_TRUE(wait_for([&] { return sink.records() >= static_cast<std::size_t>(total); }));
  thread.request_stop();
  thread.join();
  EXPECT_EQ(sink.records(), static_cast<std::size_t>(total));
}

}  // namespace
}  // namespace sluice
