// SPDX-License-Identifier: Apache-2.0
#include "sluice/capture/capture_registry.hpp"

#include <algorithm>

#include "sluice/ingest/afpacket_source.hpp"

namespace sluice {
namespace {

std::vector<CaptureBackend>& backends() {
  // The CPU path is always there: AF_PACKET registers itself.
  static std::vector<CaptureBackend> list{
      {"afpacket", "Linux AF_PACKET with a TPACKET_V3 ring",
       [](const CaptureConfig& c, MetricsRegistry& m) -> Result<CaptureSources> {
         return make_afpacket_sources(c.afpacket, m);
       }}};
  return list;
}

}  // namespace

void register_capture_backend(CaptureBackend backend) {
  auto& list = backends();
  auto it = std::find_if(list.begin(), list.end(),
                         [&](const CaptureBackend& b) { return b.name == backend.name; });
  if (it != list.end()) {
    *it = std::move(backend);
  } else {
    list.push_back(std::move(backend));
  }
}

const CaptureBackend* find_capture_backend(std::string_view name) {
  for (const auto& b : backends())
    if (b.name == name) return &b;
  return nullptr;
}

std::vector<std::string> capture_backend_names() {
  std::vector<std::string> names;
  for (const auto& b : backends())
    names.push_back(b.name);
  return names;
}

Result<CaptureSources> make_capture_sources(const CaptureConfig& config, MetricsRegistry& metrics) {
  CaptureSources out;
  for (auto [name, enabled] :
       {std::pair{"afpacket", config.afpacket.enabled}, std::pair{"dpdk", config.dpdk.enabled}}) {
    if (!enabled) continue;
    const CaptureBackend* backend = find_capture_backend(name);
    if (backend == nullptr)
      return Error{std::string("capture.") + name +
                   ": this build has no such capture backend (DPDK is built when pkg-config "
                   "finds libdpdk; apt install libdpdk-dev and reconfigure)"};
    auto made = backend->make(config, metrics);
    if (!made) return made.error();
    for (auto& s : made.value())
      out.push_back(std::move(s));
  }
  return out;
}

}  // namespace sluice
