// SPDX-License-Identifier: Apache-2.0
/// Fuzz target: `extract_key_values` on arbitrary text. Checks that it never exceeds its cap, that
/// every name is a non-empty key and every name and value lies inside the input.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sluice/parse/field_scratch.hpp"
#include "sluice/parse/kv.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static sluice::FieldScratch fields;
  fields.clear();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::size_t n = sluice::extract_key_values(text, fields);
  if (n != fields.size() || n > sluice::max_key_value_fields) std::abort();
  auto inside = [&](std::string_view part) {
    return part.data() >= text.data() && part.data() + part.size() <= text.data() + text.size();
  };
  for (const auto& f : fields.view()) {
    if (f.name.empty() || !inside(f.name) || !inside(f.value)) std::abort();
    if (f.name.data() + f.name.size() >= text.data() + text.size()) std::abort();
    if (f.name.data()[f.name.size()] != '=') std::abort();
  }
  return 0;
}
