// SPDX-License-Identifier: Apache-2.0
/// Capture backends register here by name, like Seastar's `network_stack_entry`: "afpacket"
/// (core, always present) and "dpdk" (dpdk/, present when built with libdpdk and registered by
/// the binary calling `sluice::dpdk::register_capture_backend()`). CMake decides what is built,
/// the configuration decides what runs: `make_capture_sources` builds the sources of every
/// enabled `[capture.*]` section, failing with a clear message when a section names a backend
/// this build lacks.
///
/// Registration is for start-up, before any source runs; not thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/capture/capture_config.hpp"
#include "sluice/common/result.hpp"
#include "sluice/ingest/source.hpp"
#include "sluice/metrics/counter.hpp"

namespace sluice {

using CaptureSources = std::vector<std::unique_ptr<Source>>;

/// One backend: its name, a line for `--help`, and a factory that builds (not opens) its
/// sources from the whole capture configuration and registers their metrics.
struct CaptureBackend {
  std::string name;
  std::string description;
  std::function<Result<CaptureSources>(const CaptureConfig&, MetricsRegistry&)> make;
};

/// Adds or replaces a backend.
void register_capture_backend(CaptureBackend backend);
/// The backend called `name`, or nullptr.
const CaptureBackend* find_capture_backend(std::string_view name);
/// Names of the registered backends ("afpacket", and "dpdk" when built).
std::vector<std::string> capture_backend_names();

/// Builds the sources of every enabled section. Errors name the section.
Result<CaptureSources> make_capture_sources(const CaptureConfig& config, MetricsRegistry& metrics);

}  // namespace sluice
