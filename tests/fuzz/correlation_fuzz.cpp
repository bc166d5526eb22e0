// SPDX-License-Identifier: Apache-2.0
/// Fuzz target: the correlation rule loader and engine on arbitrary YAML. Whatever the input,
/// loading must end in correlation rules or diagnostics (never a crash, an exception or a hang),
/// and loaded rules must run over a few detections, survive a snapshot round trip and finish.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sluice/event/event_batch.hpp"
#include "sluice/rules/correlation.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  sluice::rules::SigmaOptions options;
  sluice::rules::LoadReport report;
  auto base = sluice::rules::load_sigma_text(yaml, "fuzz.yml", options, report);
  if (!base || !base.value()) return 0;
  auto set = sluice::rules::load_correlations(options, {{"fuzz.yml", yaml}}, base.value(), report);
  if (!set) return 0;
  const auto& corr = *set.value();
  sluice::CorrelationConfig config;
  config.threads = 1;
  config.shards = 4;
  config.max_groups = 8;
  sluice::CorrelationEngine engine(corr.specs(), config);
  sluice::EventBatch batch(0);
  auto& e = batch.add_record("sshd[1]: Failed password for root from 10.0.0.1 port 22 ssh2", 1);
  e.status = sluice::ParseStatus::parsed;
  e.message = e.raw;
  e.app = "sshd";
  std::vector<sluice::CorrelationAlert> alerts;
  std::vector<sluice::rules::CorrelationSet::Input> inputs;
  std::size_t missing = 0;
  for (std::uint32_t r = 0; r < base.value()->rule_count(); ++r) {
    inputs.clear();
    corr.inputs_for(e, sluice::Detection{0, r, {}}, inputs, missing);
    std::vector<sluice::CorrelationInput> in;
    for (std::size_t i = 0; i < inputs.size(); ++i)
      in.push_back({static_cast<std::int64_t>(r) * 1'000'000'000, inputs[i].correlation,
                    inputs[i].step, inputs[i].key, inputs[i].value, sluice::EventRef::line(0, r)});
    engine.submit(in, alerts);
  }
  // tmpfs when there is one: the snapshot is fsynced, which on a disk costs more than the rest.
  char path[] = "/dev/shm/sluice-correlation-fuzz-XXXXXX";
  int fd = ::mkstemp(path);
  char fallback[] = "/tmp/sluice-correlation-fuzz-XXXXXX";
  char* file = path;
  if (fd < 0) {
    fd = ::mkstemp(fallback);
    file = fallback;
  }
  if (fd >= 0) {
    ::close(fd);
    if (engine.save(file).has_value()) {
      sluice::CorrelationEngine again(corr.specs(), config);
      if (!again.restore(file).has_value()) std::abort();
      again.finish(alerts);
    }
    ::unlink(file);
  }
  engine.finish(alerts);
  for (const auto& a : alerts) {
    if (a.correlation >= corr.specs().size()) std::abort();
    (void)corr.make_alert(a).to_json();
  }
  return 0;
}
