// SPDX-License-Identifier: Apache-2.0
/// `StdinSource` reads lines from standard input (`sluice scan -`), with the framing, line
/// numbers and truncation of `FileSource`. It is finite: it ends at end of input.
#pragma once

#include <memory>

#include "sluice/ingest/file_source.hpp"

namespace sluice {

/// Configuration of the stdin source (`[[source]] kind = "stdin"`).
struct StdinSourceConfig {
  /// Longest line kept; longer ones are cut, flagged truncated and counted, the rest skipped.
  std::size_t max_message_bytes = default_max_message_bytes;
  /// Descriptor to read: 0, or another one in tests.
  int fd = 0;
};

/// Lines from a descriptor (stdin by default). `run` waits for input with `poll`, so a stop
/// request is honoured within about 50 ms and a partial batch is handed on while input trickles.
class StdinSource final : public Source {
 public:
  explicit StdinSource(StdinSourceConfig config = {});

  std::string_view kind() const override { return "stdin"; }
  std::string describe() const override { return "stdin"; }
  Backpressure backpressure() const override { return Backpressure::block; }
  Result<void> open() override { return reader_.open(); }
  Result<void> run(SourceContext& ctx) override { return reader_.run(ctx); }
  bool finite() const override { return true; }

 private:
  FileSource reader_;
};

}  // namespace sluice
