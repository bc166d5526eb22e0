// SPDX-License-Identifier: Apache-2.0
/// `UdpSource` on real sockets on the loopback interface (port 0).
#include "sluice/ingest/udp_source.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include "source_runner.hpp"

#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "sluice/ingest/source_factory.hpp"

namespace sluice {
namespace {

using test::Runner;
using test::wait_for;

using namespace std::chrono_literals;

/// A real sink that keeps every batch.
class CollectingSink final : public BatchSink {
 public:
  bool push(BatchPtr batch) override {
    std::lock_guard lock(mutex_);
    for (const auto& e : batch->events()) {
      records_.emplace_back(e.raw);
      peers_.push_back(e.peer);
      flags_.push_back(e.flags);
    }
    batches_.push_back(std::move(batch));
    return true;
  }
  std::size_t size() {
    std::lock_guard lock(mutex_);
    return records_.size();
  }
  std::vector<std::string> records() {
    std::lock_guard lock(mutex_);
    return records_;
  }
  std::vector<PeerAddress> peers() {
    std::lock_guard lock(mutex_);
    return peers_;
  }
  std::vector<std::uint8_t> flags() {
    std::lock_guard lock(mutex_);
    return flags_;
  }

 private:
  std::mutex mutex_;
  std::vector<BatchPtr> batches_;
  std::vector<std::string> records_;
  std::vector<PeerAddress> peers_;
  std::vector<std::uint8_t> flags_;
};

int udp_client(int family = AF_INET) {
  const int fd = ::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  EXPECT_GE(fd, 0);
  return fd;
}

void send_to(int fd, std::uint16_t port, std::string_view bytes, bool v6 = false) {
  if (v6) {
    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    to.sin6_port = htons(port);
    to.sin6_addr = in6addr_loopback;
    ASSERT_EQ(
        ::sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
        static_cast<ssize_t>(bytes.size()));
  } else {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(
        ::sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
        static_cast<ssize_t>(bytes.size()));
  }
}

std::uint16_t local_port_of(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
}

UdpSourceConfig loopback_config() {
  UdpSourceConfig c;
  c.address = "127.0.0.1";
  c.port = 0;
  return c;
}

std::string message(std::size_t i) {
  std::string m = "<13>Oct 11 22:14:15 host app: message number ";
  m.append(std::to_string(i)).append(" with some padding to look like syslog");
  return m;
}

TEST(UdpSource, BindsPortZeroAndReportsIt) {
  UdpSource source(loopback_config());
  ASSERT_TRUE(source.open().has_value());
  EXPECT_NE(source.local_port(), 0);
  EXPECT_GT(source.receive_buffer_bytes(), 0u);
  EXPECT_EQ(source.kind(), "udp");
  EXPECT_NE(source.describe().find(std::to_string(source.local_port())), std::string::npos);
}

TEST(UdpSource, RejectsBadAddress) {
  UdpSourceConfig c = loopback_config();
  c.address = "not-an-address";
  UdpSource source(c);
  const auto r = source.open();
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("not-an-address"), std::string::npos);
}

TEST(UdpSource, ThousandsOfDatagramsArriveIntactExactlyOnce) {
  UdpSource source(loopback_config());
  ASSERT_TRUE(source.open().has_value());
  CollectingSink sink;
  Runner runner(source, sink, 32);
  const int fd = udp_client();
  constexpr std::size_t total = 5000;
  for (std::size_t i = 0; i < total; ++i) {
    send_to(fd, source.local_port(), message(i) + "\n");
    // Pace the sender so a small net.core.rmem_max cannot overflow the socket buffer.
    if (i % 50 == 49) {
      ASSERT_TRUE(wait_for([&] { return sink.size() + 50 >= i + 1; }));
    }
  }
  ASSERT_TRUE(wait_for([&] { return sink.size() >= total; }));
  runner.stop();
  ::close(fd);
  EXPECT_TRUE(runner.ok());
  const auto records = sink.records();
  ASSERT_EQ(records.size(), total);
  std::set<std::string> seen(records.begin(), records.end());
  EXPECT_EQ(seen.size(), total);
  for (std::size_t i = 0; i < total; ++i)
    EXPECT_TRUE(seen.count(message(i))) << i;
  EXPECT_EQ(runner.counters().records.value(), total);
  EXPECT_EQ(runner.counters().kernel_drops.value(), 0u);
  EXPECT_EQ(runner.counters().errors.value(), 0u);
}

TEST(UdpSource, StripsFramingSplitsAndRecordsPeer) {
  UdpSource source(loopback_config());
  ASSERT_TRUE(source.open().has_value());
  CollectingSink sink;
  Runner runner(source, sink, 32);
  const int fd = udp_client();
  send_to(fd, source.local_port(), "<1>a\r\n");
  send_to(fd, source.local_port(), "<2>b\n");
  send_to(fd, source.local_port(), std::string_view("<3>c\0", 5));
  send_to(fd, source.local_port(), "<4>x\n<5>y\n");
  send_to(fd, source.local_port(), "<6>trace\n  at frame\n");
  send_to(fd, source.local_port(), "\n");  // only framing: no record
  ASSERT_TRUE(wait_for([&] { return sink.size() >= 6; }));
  // Let a stray seventh record show up if the source wrongly made one.
  std::this_thread::sleep_for(100ms);
  runner.stop();
  EXPECT_EQ(sink.records(), (std::vector<std::string>{"<1>a", "<2>b", "<3>c", "<4>x", "<5>y",
                                                      "<6>trace\n  at frame"}));
  const std::uint16_t client_port = local_port_of(fd);
  for (const auto& peer : sink.peers()) {
    EXPECT_EQ(peer.family, 4);
    EXPECT_EQ(peer.address_string(), "127.0.0.1");
    EXPECT_EQ(peer.port, client_port);
  }
  EXPECT_EQ(runner.counters().bytes.value(), 6u + 5 + 5 + 10 + 20 + 1);
  ::close(fd);
}

TEST(UdpSource, LargestDatagramIsKeptWhole) {
  UdpSource source(loopback_config());
  ASSERT_TRUE(source.open().has_value());
  CollectingSink sink;
  Runner runner(source, sink, 32);
  const int fd = udp_client();
  std::string big = "<1>";
  big.append(65507 - big.size(), 'x');  // 65535 - 20 (IPv4) - 8 (UDP)
  send_to(fd, source.local_port(), big);
  ASSERT_TRUE(wait_for([&] { return sink.size() >= 1; }));
  runner.stop();
  ASSERT_EQ(sink.records().size(), 1u);
  EXPECT_EQ(sink.records()[0], big);
  EXPECT_EQ(sink.flags()[0] & event_flag_truncated, 0);
  ::close(fd);
}

TEST(UdpSource, Ipv6Loopback) {
  UdpSourceConfig c = loopback_config();
  c.address = "::1";
  UdpSource source(c);
  if (!source.open().has_value()) GTEST_SKIP() << "no IPv6 loopback on this machine";
  CollectingSink sink;
  Runner runner(source, sink, 32);
  const int fd = udp_client(AF_INET6);
  send_to(fd, source.local_port(), "<1>over v6\n", true);
  ASSERT_TRUE(wait_for([&] { return sink.size() >= 1; }));
  runner.stop();
  EXPECT_EQ(sink.records(), std::vector<std::string>{"<1>over v6"});
  EXPECT_EQ(sink.peers()[0].family, 6);
  EXPECT_EQ(sink.peers()[0].address_string(), "::1");
  EXPECT_EQ(sink.peers()[0].port, local_port_of(fd));
  ::close(fd);
}

TEST(UdpSource, DualStackReportsIpv4PeersAsIpv4) {
  UdpSourceConfig c = loopback_config();
  c.address = "::";
  UdpSource source(c);
  if (!source.open().has_value()) GTEST_SKIP() << "no IPv6 on this machine";
  CollectingSink sink;
  Runner runner(source, sink, 32);
  const int fd = udp_client();
  send_to(fd, source.local_port(), "<1>v4 to dual stack");
  ASSERT_TRUE(wait_for([&] { return sink.size() >= 1; }));
  runner.stop();
  EXPECT_EQ(sink.peers()[0].family, 4);
  EXPECT_EQ(sink.peers()[0].address_string(), "127.0.0.1");
  ::close(fd);
}

TEST(UdpSource, ReusePortGroupSharesAChosenPort) {
  UdpSourceConfig c = loopback_config();
  c.socket_count = 3;
  auto sources = make_udp_sources(c);
  ASSERT_EQ(sources.size(), 3u);
  for (auto& s : sources)
    ASSERT_TRUE(s->open().has_value());
  const std::uint16_t port = sources[0]->local_port();
  ASSERT_NE(port, 0);
  for (auto& s : sources)
    EXPECT_EQ(s->local_port(), port);

  CollectingSink sink;
  std::vector<std::unique_ptr<Runner>> runners;
  for (auto& s : sources)
    runners.push_back(std::make_unique<Runner>(*s, sink));
  // Many client sockets, so the kernel's flow hash spreads them over the group.
  constexpr std::size_t clients = 30;
  constexpr std::size_t per_client = 40;
  for (std::size_t k = 0; k < clients; ++k) {
    const int fd = udp_client();
    for (std::size_t i = 0; i < per_client; ++i)
      send_to(fd, port, message(k * per_client + i));
    ::close(fd);
    ASSERT_TRUE(wait_for([&] { return sink.size() >= (k + 1) * per_client; }));
  }
  std::size_t used = 0;
  for (auto& r : runners) {
    r->stop();
    if (r->counters().records.value() > 0) ++used;
  }
  const auto records = sink.records();
  std::set<std::string> seen(records.begin(), records.end());
  EXPECT_EQ(records.size(), clients * per_client);
  EXPECT_EQ(seen.size(), clients * per_client);
  EXPECT_GE(used, 2u) << "SO_REUSEPORT should spread 30 flows over 3 sockets";
}

TEST(UdpSource, KernelDropsAreCountedFromRxqOverflow) {
  UdpSourceConfig c = loopback_config();
  c.receive_buffer_bytes = 1;  // the kernel rounds up to its minimum, a few KiB
  UdpSource source(c);
  ASSERT_TRUE(source.open().has_value());
  const int fd = udp_client();
  constexpr std::size_t burst = 2000;
  // Nobody reads yet: the small buffer overflows and the kernel drops.
  for (std::size_t i = 0; i < burst; ++i)
    send_to(fd, source.local_port(), message(i));
  CollectingSink sink;
  Runner runner(source, sink, 32);
  std::size_t last = 0;
  // Drained when the count stays put for 200 ms.
  for (int i = 0; i < 100; ++i) {
    std::this_thread::sleep_for(200ms);
    const std::size_t now = sink.size();
    if (now == last && now > 0) break;
    last = now;
  }
  // The drop counter travels with the next datagram queued after the drops.
  send_to(fd, source.local_port(), "<1>marker");
  ASSERT_TRUE(wait_for([&] { return sink.size() >= last + 1; }));
  runner.stop();
  ::close(fd);
  EXPECT_GT(runner.counters().kernel_drops.value(), 0u);
  EXPECT_EQ(runner.counters().records.value() + runner.counters().kernel_drops.value(), burst + 1);
}

TEST(UdpSource, StopReturnsAndFlushesPartialBatch) {
  UdpSource source(loopback_config());
  ASSERT_TRUE(source.open().has_value());
  CollectingSink sink;
  auto runner = std::make_unique<Runner>(source, sink, 1000);
  const int fd = udp_client();
  send_to(fd, source.local_port(), "<1>one");
  // The flush interval hands on a partial batch while input trickles.
  ASSERT_TRUE(wait_for([&] { return sink.size() >= 1; }));
  send_to(fd, source.local_port(), "<1>two");
  std::this_thread::sleep_for(10ms);
  runner->stop();
  EXPECT_TRUE(runner->ok());
  ::close(fd);
}

TEST(SourceFactory, MakesUdpGroupAndValidates) {
  SourceSpec spec;
  spec.kind = "udp";
  spec.address = "127.0.0.1";
  spec.port = 0;
  spec.socket_count = 2;
  auto made = make_sources(spec);
  ASSERT_TRUE(made.has_value());
  ASSERT_EQ(made->size(), 2u);
  for (auto& s : *made) {
    EXPECT_EQ(s->kind(), "udp");
    EXPECT_EQ(s->backpressure(), Backpressure::drop);
    EXPECT_FALSE(s->finite());
    EXPECT_TRUE(s->open().has_value());
  }
  spec.socket_count = 0;
  EXPECT_FALSE(make_sources(spec).has_value());
  spec.kind = "carrier-pigeon";
  auto bad = make_sources(spec);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("carrier-pigeon"), std::string::npos);
  SourceSpec file;
  file.kind = "file";
  EXPECT_FALSE(make_sources(file).has_value());
  file.path = "/nonexistent/x.log";
  auto f = make_sources(file);
  ASSERT_TRUE(f.has_value());
  EXPECT_TRUE((*f)[0]->finite());
  EXPECT_FALSE((*f)[0]->open().has_value());
  for (const auto& kind : source_kinds()) {
    SourceSpec s;
    s.kind = kind;
    s.path = "/dev/null";
    EXPECT_TRUE(make_sources(s).has_value()) << kind;
  }
}

}  // namespace
}  // namespace sluice
