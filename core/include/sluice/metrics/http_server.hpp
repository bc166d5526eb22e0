// SPDX-License-Identifier: Apache-2.0
/// `MetricsServer` serves `GET /metrics` (Prometheus text format) and `GET /healthz` over plain
/// HTTP/1.0 from one background thread. It is for scrapers on a management network, handles one
/// request at a time, and closes each connection after the response.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "sluice/common/result.hpp"
#include "sluice/metrics/counter.hpp"

namespace sluice {

class MetricsServer {
 public:
  /// Binds `listen` ("127.0.0.1:9514", "[::1]:0", ":9514"; port 0 picks a free one) and starts
  /// serving `registry`, which must outlive the server.
  static Result<std::unique_ptr<MetricsServer>> start(const std::string& listen,
                                                      const MetricsRegistry& registry);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  /// The bound port.
  std::uint16_t port() const { return port_; }
  /// "http://127.0.0.1:9514/metrics"
  std::string url() const;

 private:
  MetricsServer(int fd, std::string host, std::uint16_t port, const MetricsRegistry& registry);
  void serve(std::stop_token stop);

  int fd_;
  std::string host_;
  std::uint16_t port_;
  const MetricsRegistry& registry_;
  std::jthread thread_;
};

/// Splits "host:port", "[v6]:port" or ":port" into host (default "0.0.0.0") and port.
Result<std::pair<std::string, std::uint16_t>> split_host_port(const std::string& text);

}  // namespace sluice
