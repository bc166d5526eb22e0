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
  // Views are set in `submit`: `bytes_` may move while it grows.
  Span s;
  s.key_off = bytes_.size();
  s.key_len = in.key.size();
  bytes_.append(in.key);
  s.value_off = bytes_.size();
  s.value_len = in.value.size();
  bytes_.append(in.value);
  inputs_.push_back(in);
  spans_.push_back(s);
}

void CorrelationCoalescer::submit(CorrelationEngine& engine, std::vector<CorrelationAlert>& out) {
  if (inputs_.empty()) return;
  for (std::size_t i = 0; i < inputs_.size(); ++i) {
    const Span& s = spans_[i];
    inputs_[i].key = std::string_view(bytes_.data() + s.key_off, s.key_len);
    inputs_[i].value = std::string_view(bytes_.data() + s.value_off, s.value_len);
  }
  engine.submit(inputs_, out);
  ++submits_;
  submitted_ += inputs_.size();
  inputs_.clear();
  spans_.clear();
  bytes_.clear();
  oldest_ns_ = 0;
}

}  // namespace sluice
