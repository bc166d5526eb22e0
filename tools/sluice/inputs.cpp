// SPDX-License-Identifier: Apache-2.0
/// Turns `[[input]]` descriptions (or `sluice scan` arguments) into sources.
#include "app.hpp"
#include "sluice/ingest/file_source.hpp"
#include "sluice/ingest/pcap_source.hpp"
#include "sluice/ingest/stdin_source.hpp"
#include "sluice/ingest/tcp_source.hpp"
#include "sluice/ingest/udp_source.hpp"

namespace sluice::cli {

Result<std::vector<std::unique_ptr<Source>>> make_sources(const InputConfig& input) {
  std::vector<std::unique_ptr<Source>> out;
  if (input.type == "udp") {
    UdpSourceConfig c;
    c.address = input.address;
    c.port = input.port;
    c.socket_count = input.sockets;
    c.receive_buffer_bytes = input.receive_buffer_bytes;
    for (auto& s : make_udp_sources(c)) out.push_back(std::move(s));
  } else if (input.type == "tcp") {
    TcpSourceConfig c;
    c.address = input.address;
    c.port = input.port;
    c.max_message_bytes = input.max_message_bytes;
    out.push_back(std::make_unique<TcpSource>(c));
  } else if (input.type == "file") {
    FileSourceConfig c;
    c.path = input.path;
    c.follow = input.follow;
    c.max_message_bytes = input.max_message_bytes;
    out.push_back(std::make_unique<FileSource>(c));
  } else if (input.type == "stdin") {
    StdinSourceConfig c;
    c.max_message_bytes = input.max_message_bytes;
    out.push_back(std::make_unique<StdinSource>(c));
  } else if (input.type == "pcap") {
    PcapSourceConfig c;
    c.path = input.path;
    if (!input.ports.empty()) c.ports = input.ports;
    c.max_message_bytes = input.max_message_bytes;
    out.push_back(std::make_unique<PcapSource>(c));
  } else {
    return Error{"unknown input type '" + input.type + "'"};
  }
  return out;
}

}  // namespace sluice::cli
