// SPDX-License-Identifier: Apache-2.0
#include "sluice/metrics/http_server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sluice {
namespace {

std::string http_get(std::uint16_t port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return "connect failed";
  }
  const std::string req = "GET " + path + " HTTP/1.0\r\nHost: x\r\n\r\n";
  (void)::send(fd, req.data(), req.size(), 0);
  std::string resp;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
    resp.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return resp;
}

TEST(MetricsServer, ServesPrometheusText) {
  MetricsRegistry registry;
  Counter events;
  events.add(42);
  registry.add_counter("sluice_test_events_total", "Test events", "", &events);
  registry.add_counter("sluice_test_events_total", "Test events", "source=\"udp:0\"", &events);
  registry.add_gauge("sluice_test_gauge", "A gauge", "", [] { return 1.5; });
  auto server = MetricsServer::start("127.0.0.1:0", registry);
  ASSERT_TRUE(server.has_value()) << server.error().message;
  const auto port = server.value()->port();
  ASSERT_NE(port, 0);
  const auto resp = http_get(port, "/metrics");
  EXPECT_NE(resp.find("HTTP/1.0 200 OK"), std::string::npos) << resp;
  EXPECT_NE(resp.find("# TYPE sluice_test_events_total counter"), std::string::npos) << resp;
  EXPECT_NE(resp.find("\nsluice_test_events_total 42\n"), std::string::npos) << resp;
  EXPECT_NE(resp.find("sluice_test_events_total{source=\"udp:0\"} 42"), std::string::npos) << resp;
  EXPECT_NE(resp.find("sluice_test_gauge 1.5"), std::string::npos) << resp;
  // One HELP line per metric name, as the exposition format requires.
  EXPECT_EQ(resp.find("# HELP sluice_test_events_total"),
            resp.rfind("# HELP sluice_test_events_total"));
  EXPECT_NE(http_get(port, "/nope").find("404"), std::string::npos);
  EXPECT_NE(http_get(port, "/healthz").find("ok"), std::string::npos);
}

TEST(MetricsServer, BadAddressesAreErrors) {
  MetricsRegistry registry;
  EXPECT_FALSE(MetricsServer::start("127.0.0.1", registry).has_value());
  EXPECT_FALSE(MetricsServer::start("127.0.0.1:99999", registry).has_value());
  EXPECT_FALSE(MetricsServer::start("300.1.1.1:0", registry).has_value());
}

TEST(SplitHostPort, Forms) {
  auto a = split_host_port("[::1]:9514");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->first, "::1");
  EXPECT_EQ(a->second, 9514);
  auto b = split_host_port(":80");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->first, "0.0.0.0");
}

}  // namespace
}  // namespace sluice
