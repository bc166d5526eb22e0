// SPDX-License-Identifier: Apache-2.0
/// Fuzz target: decoding a stored record payload (segment files are read back from disk, where
/// they may be damaged). Whatever the bytes, `decode_record` either rejects them or returns views
/// that lie inside the payload or the arena.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sluice/event/arena.hpp"
#include "sluice/store/segment_format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static sluice::Arena arena;
  arena.reset();
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  sluice::StoredEvent out;
  if (!sluice::decode_record(payload, out, arena)) return 0;
  const auto inside = [&](std::string_view v) {
    return v.empty() ||
           (v.data() >= payload.data() && v.data() + v.size() <= payload.data() + payload.size());
  };
  const auto& e = out.event;
  for (std::string_view v :
       {e.raw, e.host, e.app, e.procid, e.msgid, e.message, e.structured_data, out.source_path})
    if (!inside(v)) std::abort();
  for (const auto& f : e.fields)
    if (!inside(f.name) || !inside(f.value)) std::abort();
  return 0;
}
