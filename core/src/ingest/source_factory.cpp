// SPDX-License-Identifier: Apache-2.0
#include "sluice/ingest/source_factory.hpp"

#include "sluice/ingest/file_source.hpp"
#include "sluice/ingest/pcap_source.hpp"
#include "sluice/ingest/stdin_source.hpp"
#include "sluice/ingest/tcp_source.hpp"
#include "sluice/ingest/udp_source.hpp"

namespace sluice {

const std::vector<std::string>& source_kinds() {
  static const std::vector<std::string> kinds{"udp", "tcp", "file", "stdin", "pcap"};
  return kinds;
}

Result<std::vector<std::unique_ptr<Source>>> make_sources(const SourceSpec& spec) {
  std::vector<std::unique_ptr<Source>> out;
  const std::string where = "source '" + spec.kind + "'";
  if (spec.max_message_bytes == 0) return Error{where + ": max_message_bytes must be > 0"};
  if (spec.kind == "udp") {
    if (spec.socket_count == 0) return Error{where + ": socket_count must be > 0"};
    UdpSourceConfig c;
    c.address = spec.address;
    c.port = spec.port;
    c.socket_count = spec.socket_count;
    c.receive_buffer_bytes = spec.receive_buffer_bytes;
    c.split_messages = spec.split_messages;
    for (auto& s : make_udp_sources(c))
      out.push_back(std::move(s));
  } else if (spec.kind == "tcp") {
    TcpSourceConfig c;
    c.address = spec.address;
    c.port = spec.port;
    c.max_message_bytes = spec.max_message_bytes;
    c.max_connections = spec.max_connections;
    out.push_back(std::make_unique<TcpSource>(std::move(c)));
  } else if (spec.kind == "file") {
    if (spec.path.empty()) return Error{where + ": path is required"};
    FileSourceConfig c;
    c.path = spec.path;
    c.follow = spec.follow;
    c.start_at_end = spec.start_at_end;
    c.max_message_bytes = spec.max_message_bytes;
    out.push_back(std::make_unique<FileSource>(std::move(c)));
  } else if (spec.kind == "stdin") {
    StdinSourceConfig c;
    c.max_message_bytes = spec.max_message_bytes;
    out.push_back(std::make_unique<StdinSource>(c));
  } else if (spec.kind == "pcap") {
    if (spec.path.empty()) return Error{where + ": path is required"};
    PcapSourceConfig c;
    c.path = spec.path;
    if (!spec.ports.empty()) c.ports = spec.ports;
    c.all_udp = spec.all_udp;
    c.flows = spec.flows;
    c.max_message_bytes = spec.max_message_bytes;
    c.split_messages = spec.split_messages;
    out.push_back(std::make_unique<PcapSource>(std::move(c)));
  } else {
    return Error{where + ": unknown kind; expected one of udp, tcp, file, stdin, pcap"};
  }
  return out;
}

}  // namespace sluice
