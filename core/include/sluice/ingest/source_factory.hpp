// SPDX-License-Identifier: Apache-2.0
/// Builds sources from a plain description, for the config layer and the command line. A spec
/// may yield several sources (UDP with `socket_count` > 1 is one source per socket), so the
/// factory returns a list. Validation errors name the kind and the offending key.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sluice/common/result.hpp"
#include "sluice/ingest/framing.hpp"
#include "sluice/ingest/source.hpp"

namespace sluice {

/// Description of one configured source (`[[source]]`). Keys a kind does not use are ignored.
struct SourceSpec {
  /// "udp", "tcp", "file", "stdin" or "pcap".
  std::string kind;
  /// udp, tcp: address to bind, an IPv4 or IPv6 literal.
  std::string address = "0.0.0.0";
  /// udp, tcp: port to bind; 0 lets the kernel choose.
  std::uint16_t port = 514;
  /// file, pcap: the file to read.
  std::string path;
  /// file: keep reading at the end, follow rotation and truncation (`tail -F`).
  bool follow = false;
  /// file with follow: start at the current end of the file.
  bool start_at_end = false;
  /// udp: sockets sharing the port with SO_REUSEPORT, one source and thread each.
  std::size_t socket_count = 1;
  /// udp: socket receive buffer asked for.
  std::size_t receive_buffer_bytes = 32 * 1024 * 1024;
  /// tcp, file, stdin, pcap: longest record kept; longer ones are cut and flagged.
  std::size_t max_message_bytes = default_max_message_bytes;
  /// tcp: open connections at most.
  std::size_t max_connections = 4096;
  /// pcap: syslog ports (UDP from or to, TCP to). Empty means the default {514, 601, 1514}.
  std::vector<std::uint16_t> ports;
  /// pcap: every UDP datagram is syslog, whatever its ports.
  bool all_udp = false;
  /// pcap: also export a flow record per flow (JSON events with src_ip, dst_ip, bytes, ...).
  bool flows = false;
  /// udp, pcap: split a datagram at each LF followed by `<`.
  bool split_messages = true;
};

/// The kinds `make_sources` knows, for help texts and diagnostics.
const std::vector<std::string>& source_kinds();

/// Creates the sources a spec describes (not yet opened). Fails on an unknown kind, a missing
/// path, a zero `socket_count` or `max_message_bytes`. Allocates; call at start-up.
Result<std::vector<std::unique_ptr<Source>>> make_sources(const SourceSpec& spec);

}  // namespace sluice
