// SPDX-License-Identifier: Apache-2.0
/// Alert handling: suppression (value, CIDR, predicate, per rule) with counts, deduplication and
/// throttling in event time, stable ids, and every sink against a real receiver on 127.0.0.1:
/// JSON lines file, syslog over UDP and TCP (RFC 5424, octet counting), and the HTTP webhook
/// (a tiny HTTP server started by the test; retries after a 500, drops when nobody answers).
#include "sluice/alert/alert.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <limits>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests_support.hpp"

namespace sluice {
namespace {

constexpr std::int64_t s = 1'000'000'000;

Alert alert(std::string src, std::int64_t last, std::string rule = "r1") {
  Alert a;
  a.kind = "correlation";
  a.rule_id = rule;
  a.rule_title = "Brute force " + rule;
  a.severity = "high";
  a.correlation_type = "event_count";
  a.group = {{"src_ip", std::move(src)}};
  a.first_ns = last - 10 * s;
  a.last_ns = last;
  a.count = 10;
  a.refs = {EventRef::line(1, 7), EventRef::store(42)};
  a.assign_id();
  return a;
}

/// A sink that keeps what it was sent.
class Keep final : public AlertSink {
 public:
  explicit Keep(std::vector<std::string>* out) : out_(out) {}
  std::string describe() const override { return "keep"; }
  Result<void> send(const Alert&, std::string_view json) override {
    out_->emplace_back(json);
    return {};
  }

 private:
  std::vector<std::string>* out_;
};

std::unique_ptr<AlertHandler> handler(AlertsConfig c, std::vector<std::string>* out,
                                      std::vector<AlertPredicate> predicates = {}) {
  std::vector<std::unique_ptr<AlertSink>> sinks;
  sinks.push_back(std::make_unique<Keep>(out));
  auto h = AlertHandler::create(c, std::move(sinks), std::move(predicates));
  EXPECT_TRUE(h.has_value()) << (h ? "" : h.error().message);
  return std::move(h).value();
}

TEST(Alert, IdIsStableAndJsonCarriesEverything) {
  const Alert a = alert("10.0.0.1", 100 * s);
  EXPECT_EQ(a.id, alert("10.0.0.1", 100 * s).id);
  EXPECT_NE(a.id, alert("10.0.0.2", 100 * s).id);
  EXPECT_EQ(a.id.size(), 16u);
  const auto json = a.to_json();
  for (const char* part :
       {"\"alert.id\":\"", "\"rule.id\":\"r1\"", "\"rule.level\":\"high\"",
        "\"correlation.group\":{\"src_ip\":\"10.0.0.1\"}",
        "\"event.start\":\"1970-01-01T00:01:30Z\"", "\"event.end\":\"1970-01-01T00:01:40Z\"",
        "\"alert.count\":10", "\"alert.events\":[{\"source\":1,\"line\":7},{\"store_seq\":42}]"})
    EXPECT_NE(json.find(part), std::string::npos) << part << " in " << json;
  EXPECT_EQ(json.find("alert.value"), std::string::npos);  // only metric correlations have one
  Alert m = a;
  m.has_value = true;
  m.value = 1000000.5;
  EXPECT_NE(m.to_json().find("\"alert.count\":10,\"alert.value\":1000000.5,"), std::string::npos)
      << m.to_json();
  m.value = std::numeric_limits<double>::infinity();
  EXPECT_NE(m.to_json().find("\"alert.value\":null,"), std::string::npos) << m.to_json();
}

TEST(AlertHandler, SuppressesByValueCidrPredicateAndRuleWithCounts) {
  AlertsConfig c;
  c.suppress.push_back({"scanner", "", "src_ip", "10.0.0.9", "", "", 1});
  c.suppress.push_back({"", "", "src_ip", "", "192.168.0.0/16", "", 2});
  c.suppress.push_back({"", "r2", "src_ip", "", "2001:db8::/32", "", 3});
  c.suppress.push_back({"", "", "", "", "", "src_ip|endswith: '.77'", 4});
  std::vector<AlertPredicate> predicates(4);
  predicates[3] = [](const Alert& a) { return a.field("src_ip").ends_with(".77"); };
  std::vector<std::string> sent;
  auto h = handler(c, &sent, predicates);
  EXPECT_FALSE(h->handle(alert("10.0.0.9", 1 * s)));
  EXPECT_FALSE(h->handle(alert("192.168.4.1", 2 * s)));
  EXPECT_TRUE(h->handle(alert("192.169.4.1", 3 * s)));
  EXPECT_TRUE(h->handle(alert("2001:db8::1", 4 * s, "r1")));  // the v6 list is for r2 only
  EXPECT_FALSE(h->handle(alert("2001:db8::1", 5 * s, "r2")));
  EXPECT_FALSE(h->handle(alert("10.1.1.77", 6 * s)));
  const auto st = h->stats();
  EXPECT_EQ(st.received, 6u);
  EXPECT_EQ(st.suppressed, 4u);
  EXPECT_EQ(st.sent, 2u);
  ASSERT_EQ(st.by_suppression.size(), 4u);
  EXPECT_EQ(st.by_suppression[0], (std::pair<std::string, std::uint64_t>{"scanner", 1}));
  EXPECT_EQ(st.by_suppression[1].second, 1u);
  EXPECT_EQ(st.by_suppression[2].second, 1u);
  EXPECT_EQ(st.by_suppression[3].second, 1u);
  EXPECT_EQ(sent.size(), 2u);
}

TEST(AlertHandler, RejectsABadCidr) {
  AlertsConfig c;
  c.suppress.push_back({"", "", "src_ip", "", "10.0.0.0/33", "", 9});
  auto h = AlertHandler::create(c, {});
  ASSERT_FALSE(h.has_value());
  EXPECT_NE(h.error().message.find("line 9"), std::string::npos);
}

TEST(AlertHandler, DeduplicatesPerRuleAndGroupInEventTime) {
  AlertsConfig c;
  c.dedup_seconds = 60;
  std::vector<std::string> sent;
  auto h = handler(c, &sent);
  EXPECT_TRUE(h->handle(alert("a", 100 * s)));
  EXPECT_FALSE(h->handle(alert("a", 160 * s)));       // exactly 60 s later: duplicate
  EXPECT_TRUE(h->handle(alert("b", 160 * s)));        // other group
  EXPECT_TRUE(h->handle(alert("a", 160 * s, "r2")));  // other rule
  EXPECT_TRUE(h->handle(alert("a", 160 * s + 1)));    // 1 ns over
  EXPECT_EQ(h->stats().duplicates, 1u);
}

TEST(AlertHandler, ThrottlesPerRuleAndGroup) {
  AlertsConfig c;
  c.throttle_seconds = 60;
  c.throttle_max = 2;
  std::vector<std::string> sent;
  auto h = handler(c, &sent);
  int passed = 0;
  for (int i = 0; i < 5; ++i)
    passed += h->handle(alert("a", (100 + i) * s));
  EXPECT_EQ(passed, 2);
  EXPECT_TRUE(h->handle(alert("b", 104 * s)));
  EXPECT_TRUE(h->handle(alert("a", 161 * s)));  // a new window
  const auto st = h->stats();
  EXPECT_EQ(st.throttled, 3u);
  EXPECT_EQ(st.received, st.sent + st.throttled + st.duplicates + st.suppressed);
}

TEST(AlertSinks, JsonLinesFileGetsOneLinePerAlert) {
  test::TempDir dir;
  AlertSinkConfig c;
  c.type = "jsonl";
  c.path = (dir / "alerts.jsonl").string();
  auto sink = make_alert_sink(c);
  ASSERT_TRUE(sink.has_value()) << sink.error().message;
  std::vector<std::unique_ptr<AlertSink>> sinks;
  sinks.push_back(std::move(sink).value());
  auto h = AlertHandler::create({}, std::move(sinks));
  ASSERT_TRUE(h.has_value());
  h.value()->handle(alert("a", 1 * s));
  h.value()->handle(alert("b", 2 * s));
  h.value()->flush();
  std::ifstream in(c.path);
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line))
    lines.push_back(line);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], alert("a", 1 * s).to_json());
}

/// A socket bound to 127.0.0.1 on a free port.
int bound_socket(int type, std::uint16_t& port) {
  const int fd = ::socket(AF_INET, type, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  if (type == SOCK_STREAM) ::listen(fd, 8);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

TEST(AlertSinks, SyslogUdpSendsRfc5424) {
  std::uint16_t port = 0;
  const int fd = bound_socket(SOCK_DGRAM, port);
  AlertSinkConfig c;
  c.type = "syslog";
  c.address = "127.0.0.1:" + std::to_string(port);
  auto sink = make_alert_sink(c);
  ASSERT_TRUE(sink.has_value()) << sink.error().message;
  const Alert a = alert("10.0.0.1", 100 * s);
  ASSERT_TRUE(sink.value()->send(a, a.to_json()).has_value());
  char buf[4096];
  const auto n = ::recv(fd, buf, sizeof buf, 0);
  ::close(fd);
  ASSERT_GT(n, 0);
  const std::string msg(buf, static_cast<std::size_t>(n));
  // local4 (20) * 8 + error (3, level high) = 163
  EXPECT_EQ(msg.rfind("<163>1 1970-01-01T00:01:40Z ", 0), 0u) << msg;
  EXPECT_NE(msg.find(" sluice - ALERT [sluice@32473 id=\"" + a.id + "\" rule=\"r1\""),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find(a.to_json()), std::string::npos);
}

TEST(AlertSinks, SyslogTcpUsesOctetCounting) {
  std::uint16_t port = 0;
  const int lfd = bound_socket(SOCK_STREAM, port);
  AlertSinkConfig c;
  c.type = "syslog";
  c.protocol = "tcp";
  c.address = "127.0.0.1:" + std::to_string(port);
  auto sink = make_alert_sink(c);
  ASSERT_TRUE(sink.has_value()) << sink.error().message;
  const Alert a = alert("10.0.0.1", 100 * s);
  ASSERT_TRUE(sink.value()->send(a, a.to_json()).has_value());
  ASSERT_TRUE(sink.value()->send(a, a.to_json()).has_value());
  const int cfd = ::accept(lfd, nullptr, nullptr);
  ASSERT_GE(cfd, 0);
  timeval tv{5, 0};
  ::setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string got;
  char buf[4096];
  while (true) {
    // Two frames: "LEN SP MSG" twice.
    std::size_t frames = 0, pos = 0;
    while (pos < got.size()) {
      const auto sp = got.find(' ', pos);
      if (sp == std::string::npos) break;
      const auto len = std::stoul(got.substr(pos, sp - pos));
      if (got.size() < sp + 1 + len) break;
      EXPECT_EQ(got.compare(sp + 1, 5, "<163>"), 0);
      pos = sp + 1 + len;
      ++frames;
    }
    if (frames == 2) break;
    const auto n = ::recv(cfd, buf, sizeof buf, 0);
    ASSERT_GT(n, 0) << "got only: " << got;
    got.append(buf, static_cast<std::size_t>(n));
  }
  ::close(cfd);
  ::close(lfd);
}

/// A tiny HTTP/1.1 server: answers each request with the next status of `statuses` (the last
/// repeats) and keeps the bodies.
class HttpServer {
 public:
  explicit HttpServer(std::vector<int> statuses) : statuses_(std::move(statuses)) {
    fd_ = bound_socket(SOCK_STREAM, port_);
    thread_ = std::thread([this] { run(); });
  }
  ~HttpServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::uint16_t port() const { return port_; }
  std::vector<std::string> bodies() {
    std::lock_guard lock(m_);
    return bodies_;
  }
  int requests() const { return requests_.load(); }

 private:
  void run() {
    while (!stop_) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) {
        if (stop_) return;
        continue;
      }
      std::string req;
      char buf[4096];
      std::size_t need = std::string::npos;
      while (true) {
        const auto n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        req.append(buf, static_cast<std::size_t>(n));
        const auto end = req.find("\r\n\r\n");
        if (end != std::string::npos && need == std::string::npos) {
          const auto cl = req.find("Content-Length: ");
          need = end + 4 + (cl == std::string::npos ? 0 : std::stoul(req.substr(cl + 16)));
        }
        if (need != std::string::npos && req.size() >= need) break;
      }
      const int i = requests_++;
      const int status = statuses_[std::min<std::size_t>(i, statuses_.size() - 1)];
      if (status == 200) {
        std::lock_guard lock(m_);
        bodies_.push_back(req.substr(req.find("\r\n\r\n") + 4));
      }
      const std::string answer = "HTTP/1.1 " + std::to_string(status) +
                                 " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      (void)::send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }
  std::vector<int> statuses_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::mutex m_;
  std::vector<std::string> bodies_;
  std::thread thread_;
};

TEST(AlertSinks, WebhookPostsJsonAndRetriesAfterAServerError) {
  HttpServer server({500, 200});
  AlertSinkConfig c;
  c.type = "webhook";
  c.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/hooks/sluice";
  c.retry_backoff_ms = 10;
  auto sink = make_alert_sink(c);
  ASSERT_TRUE(sink.has_value()) << sink.error().message;
  const Alert a = alert("10.0.0.1", 100 * s);
  const Alert b = alert("10.0.0.2", 101 * s);
  ASSERT_TRUE(sink.value()->send(a, a.to_json()).has_value());
  ASSERT_TRUE(sink.value()->send(b, b.to_json()).has_value());
  ASSERT_TRUE(sink.value()->flush().has_value());
  const auto bodies = server.bodies();
  ASSERT_EQ(bodies.size(), 2u);
  EXPECT_EQ(bodies[0], a.to_json());
  EXPECT_EQ(bodies[1], b.to_json());
  EXPECT_EQ(server.requests(), 3);  // a failed once (500), then a and b went through
  EXPECT_EQ(sink.value()->dropped(), 0u);
}

TEST(AlertSinks, WebhookDropsAndCountsWhenRetriesAreExhaustedOrTheQueueIsFull) {
  HttpServer server({503});
  AlertSinkConfig c;
  c.type = "webhook";
  c.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
  c.retries = 2;
  c.retry_backoff_ms = 1;
  c.queue = 1;
  auto sink = make_alert_sink(c);
  ASSERT_TRUE(sink.has_value());
  const Alert a = alert("10.0.0.1", 100 * s);
  std::size_t refused = 0;
  for (int i = 0; i < 5; ++i)
    refused += !sink.value()->send(a, a.to_json()).has_value();
  ASSERT_TRUE(sink.value()->flush().has_value());
  // Every alert was either refused at the queue or dropped after 3 tries.
  EXPECT_EQ(sink.value()->dropped(), 5u);
  EXPECT_GE(refused, 1u);
  EXPECT_EQ(static_cast<std::size_t>(server.requests()), 3 * (5 - refused));
}

TEST(AlertSinks, UnknownTypeAndBadUrlAreErrors) {
  AlertSinkConfig c;
  c.type = "pager";
  c.line = 12;
  auto r = make_alert_sink(c);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("line 12"), std::string::npos);
  c.type = "webhook";
  c.url = "https://example.invalid/";
  EXPECT_FALSE(make_alert_sink(c).has_value());
}

}  // namespace
}  // namespace sluice
