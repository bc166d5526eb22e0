// SPDX-License-Identifier: Apache-2.0
/// Fuzz target: CEF, alone or after a syslog header (`ParseFormat::cef`).
#include "parser_contract.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return sluice::fuzz::check_parser_contract<sluice::ParseFormat::cef>(data, size);
}
