// SPDX-License-Identifier: Apache-2.0
/// The alert sinks: JSON lines (file or stdout), syslog forward (RFC 5424 over UDP, or TCP with
/// RFC 6587 octet counting) and the HTTP webhook (JSON POST, bounded queue, retries).
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "sluice/alert/alert.hpp"
#include "sluice/output/json_lines.hpp"

namespace sluice {
namespace {

Result<void> write_all(int fd, std::string_view bytes, const std::string& what) {
  while (!bytes.empty()) {
    const auto n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::from_errno(what);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

/// JSON lines to a file (appended) or to stdout, through a buffer flushed at `flush` and when
/// it passes 64 KiB (one write per many alerts; a trade-off against latency, which `flush`
/// after each handled batch bounds).
class JsonLinesSink final : public AlertSink {
 public:
  JsonLinesSink(std::string path, int fd, bool owns)
      : path_(std::move(path)), fd_(fd), owns_(owns) {}
  ~JsonLinesSink() override {
    (void)flush();
    if (owns_) ::close(fd_);
  }
  std::string describe() const override { return path_ == "-" ? "stdout" : "jsonl:" + path_; }
  Result<void> send(const Alert&, std::string_view json) override {
    buffer_.append(json);
    buffer_ += '\n';
    if (buffer_.size() > 65536) return flush();
    return {};
  }
  Result<void> flush() override {
    if (buffer_.empty()) return {};
    auto r = write_all(fd_, buffer_, "alert sink " + describe());
    buffer_.clear();
    return r;
  }

 private:
  std::string path_;
  int fd_;
  bool owns_;
  std::string buffer_;
};

Result<std::pair<std::string, std::string>> split_host_port(const std::string& address,
                                                            const std::string& what) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size())
    return Error{what + ": address '" + address + "' is not host:port"};
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return std::pair{host, address.substr(colon + 1)};
}

Result<int> connect_to(const std::string& host, const std::string& port, int socktype,
                       std::int64_t timeout_ms, const std::string& what) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = socktype;
  addrinfo* res = nullptr;
  if (const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0)
    return Error{what + ": cannot resolve " + host + ":" + port + ": " + gai_strerror(rc)};
  int fd = -1;
  int err = 0;
  for (auto* ai = res; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
      err = errno;
      ::close(fd);
      fd = -1;
      continue;
    }
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(timeout_ms)) != 1) {
      err = ETIMEDOUT;
      ::close(fd);
      fd = -1;
      continue;
    }
    int so = 0;
    socklen_t len = sizeof so;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &len);
    if (so != 0) {
      err = so;
      ::close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd < 0) return Error::from_errno(what + ": cannot connect to " + host + ":" + port, err);
  // Blocking from here on, with timeouts, so a stalled peer cannot hang the sender forever.
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  timeval tv{static_cast<time_t>(timeout_ms / 1000),
             static_cast<suseconds_t>((timeout_ms % 1000) * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

/// RFC 5424 severity from a Sigma level.
int syslog_severity(std::string_view level) {
  if (level == "critical") return 2;
  if (level == "high") return 3;
  if (level == "medium") return 4;
  if (level == "low") return 5;
  return 6;  // informational
}

/// RFC 5424 PARAM-VALUE escaping (section 6.3.3): '"', '\' and ']' get a backslash.
void append_sd_value(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '"' || c == '\\' || c == ']') out += '\\';
    out += c;
  }
}

/// Syslog forward. Each alert is one RFC 5424 message, facility local4 (20): HEADER with the
/// alert's last event time, APP-NAME `sluice`, MSGID `ALERT`, structured data
/// `[sluice@32473 id= rule= level= count=]` and the alert JSON as MSG. UDP sends one datagram
/// per alert; TCP frames with octet counting (RFC 6587 section 3.4.1) and reconnects once on a
/// failed write.
class SyslogSink final : public AlertSink {
 public:
  SyslogSink(AlertSinkConfig c, std::string host, std::string port)
      : config_(std::move(c)), host_(std::move(host)), port_(std::move(port)) {
    char name[256] = {};
    ::gethostname(name, sizeof name - 1);
    hostname_ = name[0] ? name : "-";
  }
  ~SyslogSink() override {
    if (fd_ >= 0) ::close(fd_);
  }
  std::string describe() const override {
    return "syslog+" + config_.protocol + ":" + config_.address;
  }
  Result<void> open() {
    auto fd = connect_to(host_, port_, tcp() ? SOCK_STREAM : SOCK_DGRAM, config_.timeout_ms,
                         "alert sink " + describe());
    if (!fd) return fd.error();
    fd_ = fd.value();
    return {};
  }
  Result<void> send(const Alert& a, std::string_view json) override {
    std::string msg = fmt::format("<{}>1 ", 20 * 8 + syslog_severity(a.severity));
    append_rfc3339(msg, a.last_ns);
    msg += fmt::format(" {} sluice - ALERT [sluice@32473 id=\"", hostname_);
    append_sd_value(msg, a.id);
    msg += "\" rule=\"";
    append_sd_value(msg, a.rule_id.empty() ? a.rule_title : a.rule_id);
    msg += "\" level=\"";
    append_sd_value(msg, a.severity);
    msg += fmt::format("\" count=\"{}\"] ", a.count);
    msg.append(json);
    if (!tcp()) {
      if (fd_ < 0)
        if (auto r = open(); !r) return r;
      if (::send(fd_, msg.data(), msg.size(), MSG_NOSIGNAL) < 0)
        return Error::from_errno("alert sink " + describe());
      return {};
    }
    const std::string framed = fmt::format("{} {}", msg.size(), msg);
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (fd_ < 0)
        if (auto r = open(); !r) return r;
      std::string_view rest = framed;
      bool ok = true;
      while (!rest.empty()) {
        const auto n = ::send(fd_, rest.data(), rest.size(), MSG_NOSIGNAL);
        if (n < 0) {
          if (errno == EINTR) continue;
          ok = false;
          break;
        }
        rest.remove_prefix(static_cast<std::size_t>(n));
      }
      if (ok) return {};
      ::close(fd_);
      fd_ = -1;
    }
    return Error::from_errno("alert sink " + describe());
  }

 private:
  bool tcp() const { return config_.protocol == "tcp"; }
  AlertSinkConfig config_;
  std::string host_, port_, hostname_;
  int fd_ = -1;
};

/// HTTP webhook: a background thread POSTs each alert as `application/json` to the URL
/// (HTTP/1.1, one connection per request, `Connection: close`). A 2xx answer is success;
/// anything else (refused, timeout, other status) is retried `retries` times with a back-off
/// doubling from `retry_backoff_ms`, then the alert is dropped and counted. The queue holds at
/// most `queue` alerts: when full the newest is dropped and counted, so a dead endpoint never
/// blocks alert handling.
class WebhookSink final : public AlertSink {
 public:
  WebhookSink(AlertSinkConfig c, std::string host, std::string port, std::string path)
      : config_(std::move(c)),
        host_(std::move(host)),
        port_(std::move(port)),
        path_(std::move(path)) {
    thread_ = std::thread([this] { run(); });
  }
  ~WebhookSink() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  std::string describe() const override { return "webhook:" + config_.url; }
  Result<void> send(const Alert&, std::string_view json) override {
    {
      std::lock_guard lock(mutex_);
      if (queue_.size() >= std::max<std::size_t>(1, config_.queue)) {
        ++dropped_;
        return Error{"alert sink " + describe() + ": queue full, alert dropped"};
      }
      queue_.emplace_back(json);
    }
    cv_.notify_one();
    return {};
  }
  /// Waits (up to the time all retries could take) until the queue has drained.
  Result<void> flush() override {
    std::unique_lock lock(mutex_);
    const auto budget = std::chrono::milliseconds(
        (config_.timeout_ms * 2 + config_.retry_backoff_ms) * (1 + std::int64_t(config_.retries)) *
        std::max<std::size_t>(1, queue_.size() + 1));
    drained_.wait_for(lock, budget, [&] { return queue_.empty() && !busy_; });
    return {};
  }
  std::uint64_t dropped() const override {
    std::lock_guard lock(mutex_);
    return dropped_;
  }
  std::uint64_t delivered() const {
    std::lock_guard lock(mutex_);
    return delivered_;
  }

 private:
  bool post(const std::string& body) {
    auto fd = connect_to(host_, port_, SOCK_STREAM, config_.timeout_ms, describe());
    if (!fd) return false;
    const std::string request = fmt::format(
        "POST {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: application/json\r\n"
        "Content-Length: {}\r\nConnection: close\r\nUser-Agent: sluice\r\n\r\n{}",
        path_, host_, port_, body.size(), body);
    bool ok = write_all(fd.value(), request, describe()).has_value();
    std::string answer;
    char buf[512];
    while (ok && answer.find("\r\n") == std::string::npos) {
      const auto n = ::read(fd.value(), buf, sizeof buf);
      if (n <= 0) break;
      answer.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd.value());
    // "HTTP/1.1 204 No Content": the status code is the second word.
    const auto sp = answer.find(' ');
    return ok && sp != std::string::npos && answer.size() > sp + 1 && answer[sp + 1] == '2';
  }

  void run() {
    std::unique_lock lock(mutex_);
    while (true) {
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) {
        if (stopping_) return;
        continue;
      }
      std::string body = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
      const bool stopping = stopping_;
      lock.unlock();
      bool ok = false;
      std::int64_t backoff = config_.retry_backoff_ms;
      for (std::size_t attempt = 0; attempt <= config_.retries && !ok; ++attempt) {
        if (attempt > 0) {
          std::this_thread::sleep_for(std::chrono::milliseconds(stopping ? 0 : backoff));
          backoff *= 2;
        }
        ok = post(body);
      }
      lock.lock();
      busy_ = false;
      if (ok)
        ++delivered_;
      else
        ++dropped_;  // retries exhausted: counted in sluice_alerts_sink_dropped_total
      if (queue_.empty()) drained_.notify_all();
    }
  }

  AlertSinkConfig config_;
  std::string host_, port_, path_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::condition_variable drained_;
  std::deque<std::string> queue_;
  bool stopping_ = false;
  bool busy_ = false;
  std::uint64_t dropped_ = 0;
  std::uint64_t delivered_ = 0;
  std::thread thread_;
};

}  // namespace

namespace {
Result<std::unique_ptr<AlertSink>> open_alert_sink(const AlertSinkConfig& c);
}  // namespace

Result<std::unique_ptr<AlertSink>> make_alert_sink(const AlertSinkConfig& c) {
  auto sink = open_alert_sink(c);
  if (sink) sink.value()->set_detections(c.detections);
  return sink;
}

namespace {
Result<std::unique_ptr<AlertSink>> open_alert_sink(const AlertSinkConfig& c) {
  const std::string where = fmt::format("alerts.sink (line {})", c.line);
  if (c.type == "stdout" || (c.type == "jsonl" && c.path == "-")) {
    return std::unique_ptr<AlertSink>(new JsonLinesSink("-", STDOUT_FILENO, false));
  }
  if (c.type == "jsonl") {
    if (c.path.empty()) return Error{where + ": jsonl needs a path"};
    const int fd = ::open(c.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return Error::from_errno(where + ": cannot open " + c.path);
    return std::unique_ptr<AlertSink>(new JsonLinesSink(c.path, fd, true));
  }
  if (c.type == "syslog") {
    if (c.protocol != "udp" && c.protocol != "tcp")
      return Error{where + ": protocol is udp or tcp, not '" + c.protocol + "'"};
    auto hp = split_host_port(c.address, where);
    if (!hp) return hp.error();
    auto sink = std::make_unique<SyslogSink>(c, hp.value().first, hp.value().second);
    // UDP "connects" at once (a resolution error shows now); TCP connects on first use so a
    // collector that starts later is fine.
    if (c.protocol == "udp")
      if (auto r = sink->open(); !r) return r.error();
    return std::unique_ptr<AlertSink>(std::move(sink));
  }
  if (c.type == "webhook") {
    constexpr std::string_view scheme = "http://";
    if (c.url.compare(0, scheme.size(), scheme) != 0)
      return Error{where + ": webhook url must start with http:// (got '" + c.url + "')"};
    const std::string rest = c.url.substr(scheme.size());
    const auto slash = rest.find('/');
    const std::string hostport = rest.substr(0, slash);
    const std::string path = slash == std::string::npos ? "/" : rest.substr(slash);
    std::string host = hostport, port = "80";
    if (const auto colon = hostport.rfind(':'); colon != std::string::npos) {
      host = hostport.substr(0, colon);
      port = hostport.substr(colon + 1);
    }
    if (host.empty()) return Error{where + ": webhook url has no host"};
    return std::unique_ptr<AlertSink>(new WebhookSink(c, host, port, path));
  }
  return Error{where + ": unknown sink type '" + c.type + "' (jsonl, stdout, syslog, webhook)"};
}
}  // namespace

}  // namespace sluice
