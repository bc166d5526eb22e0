// SPDX-License-Identifier: Apache-2.0
/// Fuzz target: RFC 5424 only (`ParseFormat::rfc5424`). Checks the parser's contract on every
/// input: never crash, never leave an event pending, a reason exactly when unparsed, no fields on
/// an unparsed event, and every view inside the input or the arena.
#include "parser_contract.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return sluice::fuzz::check_parser_contract<sluice::ParseFormat::rfc5424>(data, size);
}
