// SPDX-License-Identifier: Apache-2.0
/// Turns `[[input]]` descriptions (or `sluice scan` arguments) into sources through core's
/// source factory.
#include "app.hpp"
#include "sluice/ingest/source_factory.hpp"

namespace sluice::cli {

Result<std::vector<std::unique_ptr<Source>>> make_sources(const InputConfig& input) {
  SourceSpec spec;
  spec.kind = input.type;
  spec.address = input.address;
  spec.port = input.port;
  spec.path = input.path;
  spec.follow = input.follow;
  spec.socket_count = input.sockets;
  spec.receive_buffer_bytes = input.receive_buffer_bytes;
  spec.max_message_bytes = input.max_message_bytes;
  spec.ports = input.ports;
  return sluice::make_sources(spec);
}

}  // namespace sluice::cli
