// SPDX-License-Identifier: Apache-2.0
/// `CorrelationCoalescer` (see the header for why and when it submits).
#include "sluice/correlate/coalescer.hpp"

#include <algorithm>

namespace sluice {

CorrelationCoalescer::CorrelationCoalescer(std::size_t max_inputs, std::int64_t max_age_ns)
    : max_inputs_(std::max<std::size_t>(1, max_inputs)),
      max_age_ns_(std::max<std::int64_t>(0, max_age_ns)) {}

void CorrelationCoalescer::add(const CorrelationInput& in, std::int64_t now_ns) {
  if (inputs_.empty()) oldest_ns_ = now_ns;
  // The key and value go to `bytes_` one after the other, in input order, and their lengths
  // to `lengths_`; `submit` points the held views into `bytes_`, which may move while it grows.
  // Eight bytes of side table per input: at 16,384 held inputs every byte counts against the
  // caches the engine needs next.
  bytes_.append(in.key);
  bytes_.append(in.value);
  lengths_.push_back(static_cast<std::uint32_t>(in.key.size()));
  lengths_.push_back(static_cast<std::uint32_t>(in.value.size()));
  CorrelationInput& held = inputs_.emplace_back(in);
  held.key = {};
  held.value = {};
}

void CorrelationCoalescer::submit(CorrelationEngine& engine, std::vector<CorrelationAlert>& out) {
  if (inputs_.empty()) return;
  const char* at = bytes_.data();
  for (std::size_t i = 0; i < inputs_.size(); ++i) {
    inputs_[i].key = std::string_view(at, lengths_[2 * i]);
    at += lengths_[2 * i];
    inputs_[i].value = std::string_view(at, lengths_[2 * i + 1]);
    at += lengths_[2 * i + 1];
  }
  engine.submit(inputs_, out);
  ++submits_;
  submitted_ += inputs_.size();
  inputs_.clear();
  lengths_.clear();
  bytes_.clear();
  oldest_ns_ = 0;
}

}  // namespace sluice
