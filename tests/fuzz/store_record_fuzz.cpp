// SPDX-License-Identifier: Apache-2.0
/// Fuzz target: decoding a stored record payload (segment files are read back from disk, where
/// they may be damaged), as an event of format 2 and 1 and as an alert. Whatever the bytes,
/// `decode_record` and `decode_alert` either reject them or return views that lie inside the
/// payload or the arena.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sluice/event/arena.hpp"
#include "sluice/store/alert_log.hpp"
#include "sluice/store/segment_format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static sluice::Arena arena;
  arena.reset();
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  const auto inside = [&](std::string_view v) {
    return v.empty() ||
           (v.data() >= payload.data() && v.data() + v.size() <= payload.data() + payload.size());
  };
  sluice::StoredAlert alert;
  if (sluice::decode_alert(payload, alert, arena)) {
    for (std::string_view v : {alert.rule_id, alert.title, alert.level})
      if (!inside(v)) std::abort();
    for (std::string_view v : alert.attack_techniques)
      if (!inside(v)) std::abort();
    for (const auto& f : alert.matched)
      if (!inside(f.name) || !inside(f.value)) std::abort();
    for (std::string_view v : {alert.alert_id, alert.kind, alert.rule_name, alert.correlation_type})
      if (!inside(v)) std::abort();
    for (const auto& f : alert.details)
      if (!inside(f.name) || !inside(f.value)) std::abort();
  }
  sluice::StoredEvent out;
  (void)sluice::decode_record(payload, out, arena, 1);
  if (!sluice::decode_record(payload, out, arena)) return 0;
  const auto& e = out.event;
  for (std::string_view v :
       {e.raw, e.host, e.app, e.procid, e.msgid, e.message, e.structured_data, out.source_path})
    if (!inside(v)) std::abort();
  for (const auto& f : e.fields)
    if (!inside(f.name) || !inside(f.value)) std::abort();
  return 0;
}
