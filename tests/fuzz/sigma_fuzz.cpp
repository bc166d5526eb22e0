// SPDX-License-Identifier: Apache-2.0
/// Fuzz target: the Sigma rule loader and compiler on arbitrary YAML. Whatever the input, loading
/// must end in a rule set or a diagnostic (never a crash, an exception or a hang), and a loaded
/// set must scan a small batch of events.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sluice/event/event_batch.hpp"
#include "sluice/rules/sigma.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Rules are small; very large inputs only slow the fuzzer down.
  if (size > 64 * 1024) return 0;
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  sluice::rules::SigmaOptions options;
  sluice::rules::LoadReport report;
  auto set = sluice::rules::load_sigma_text(yaml, "fuzz.yml", options, report);
  if (!set || !set.value()) return 0;
  static sluice::EventBatch batch = [] {
    sluice::EventBatch b(0);
    for (std::string_view line :
         {std::string_view("sshd[1]: Failed password for root from 10.0.0.1 port 22 ssh2"),
          std::string_view("type=EXECVE msg=audit(1): a0=\"bash\" a1=\"-i\""),
          std::string_view("")}) {
      auto& e = b.add_record(line, 1);
      e.status = sluice::ParseStatus::parsed;
      e.message = e.raw;
      e.app = "sshd";
    }
    return b;
  }();
  std::vector<sluice::Detection> out;
  set.value()->make_scanner()->scan(batch, out);
  for (const auto& d : out)
    if (d.event_index >= batch.size() || d.rule_index >= set.value()->rule_count()) std::abort();
  return 0;
}
