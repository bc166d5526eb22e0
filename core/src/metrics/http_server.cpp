// SPDX-License-Identifier: Apache-2.0
#include "sluice/metrics/http_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>
#include <charconv>
#include <cstring>

#include "sluice/common/log.hpp"

namespace sluice {
namespace {

constexpr Logger logger("metrics");

void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

Result<std::pair<std::string, std::uint16_t>> split_host_port(const std::string& text) {
  std::string host;
  std::string port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return Error{"bad address '" + text + "': expected [v6-address]:port"};
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) return Error{"bad address '" + text + "': expected host:port"};
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  if (host.empty()) host = "0.0.0.0";
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || ptr != port_text.data() + port_text.size() || port > 65535)
    return Error{"bad port '" + port_text + "' in '" + text + "'"};
  return std::pair{host, static_cast<std::uint16_t>(port)};
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& listen,
                                                            const MetricsRegistry& registry) {
  auto hp = split_host_port(listen);
  if (!hp) return hp.error();
  const auto& [host, port] = hp.value();
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family = AF_INET;
  if (host.find(':') != std::string::npos) {
    family = AF_INET6;
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    if (inet_pton(AF_INET6, host.c_str(), &a->sin6_addr) != 1)
      return Error{"metrics listen: bad IPv6 address '" + host + "'"};
    len = sizeof(sockaddr_in6);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    if (inet_pton(AF_INET, host.c_str(), &a->sin_addr) != 1)
      return Error{"metrics listen: bad IPv4 address '" + host + "'"};
    len = sizeof(sockaddr_in);
  }
  const int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error::from_errno("metrics listen: socket");
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd, 16) != 0) {
    const int err = errno;
    ::close(fd);
    return Error::from_errno("metrics listen: cannot bind " + listen, err);
  }
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  const std::uint16_t bound = family == AF_INET
                                  ? ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port)
                                  : ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return std::unique_ptr<MetricsServer>(new MetricsServer(fd, host, bound, registry));
}

MetricsServer::MetricsServer(int fd, std::string host, std::uint16_t port,
                             const MetricsRegistry& registry)
    : fd_(fd), host_(std::move(host)), port_(port), registry_(registry) {
  thread_ = std::jthread([this](std::stop_token stop) { serve(stop); });
}

MetricsServer::~MetricsServer() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
  ::close(fd_);
}

std::string MetricsServer::url() const {
  const bool v6 = host_.find(':') != std::string::npos;
  return fmt::format("http://{}{}{}:{}/metrics", v6 ? "[" : "",
                     host_ == "0.0.0.0" ? "127.0.0.1" : host_, v6 ? "]" : "", port_);
}

void MetricsServer::serve(std::stop_token stop) {
  while (!stop.stop_requested()) {
    pollfd p{fd_, POLLIN, 0};
    // A short poll timeout lets the thread notice stop requests promptly.
    if (::poll(&p, 1, 100) <= 0) continue;
    const int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    // Read the request head, giving a slow client at most one second.
    std::string request;
    char buf[2048];
    while (request.find("\r\n\r\n") == std::string::npos && request.size() < 8192) {
      pollfd cp{client, POLLIN, 0};
      if (::poll(&cp, 1, 1000) <= 0) break;
      const auto n = ::recv(client, buf, sizeof buf, 0);
      if (n <= 0) break;
      request.append(buf, static_cast<std::size_t>(n));
    }
    std::string_view line(request);
    line = line.substr(0, line.find("\r\n"));
    std::string body;
    std::string status = "200 OK";
    std::string type = "text/plain; version=0.0.4; charset=utf-8";
    if (line.starts_with("GET /metrics ") || line == "GET /metrics") {
      body = registry_.prometheus_text();
    } else if (line.starts_with("GET /healthz")) {
      body = "ok\n";
    } else if (line.starts_with("GET ")) {
      status = "404 Not Found";
      body = "not found; try /metrics\n";
    } else {
      status = "405 Method Not Allowed";
      body = "only GET is served\n";
    }
    send_all(client, fmt::format("HTTP/1.0 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n"
                                 "Connection: close\r\n\r\n",
                                 status, type, body.size()));
    send_all(client, body);
    ::close(client);
  }
  logger.debug("metrics server on port {} stopped", port_);
}

}  // namespace sluice
