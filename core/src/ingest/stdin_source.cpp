// SPDX-License-Identifier: Apache-2.0
/// stdin is a `FileSource` over descriptor 0: same framing, line numbers and truncation.
#include "sluice/ingest/stdin_source.hpp"

namespace sluice {

namespace {
FileSourceConfig reader_config(const StdinSourceConfig& config) {
  FileSourceConfig c;
  c.max_message_bytes = config.max_message_bytes;
  return c;
}
}  // namespace

StdinSource::StdinSource(StdinSourceConfig config)
    : reader_(reader_config(config), config.fd, "stdin") {}

}  // namespace sluice
