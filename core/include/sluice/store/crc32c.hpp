// SPDX-License-Identifier: Apache-2.0
/// CRC32C (Castagnoli, polynomial 0x1EDC6F41, reflected), the checksum of every store record.
/// The function picks at first use between the SSE4.2 `crc32` instruction (checked at run time
/// with `__builtin_cpu_supports`) and a slicing-by-8 table; both give identical results and are
/// tested against the RFC 3720 appendix B.4 vectors.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sluice {

/// CRC32C of `size` bytes at `data`, continuing from `crc` (0 for a fresh checksum; pass a
/// previous result to checksum data in pieces). Thread-safe, does not allocate.
std::uint32_t crc32c(const void* data, std::size_t size, std::uint32_t crc = 0);

/// The table-driven implementation alone, for differential tests against the hardware path.
std::uint32_t crc32c_portable(const void* data, std::size_t size, std::uint32_t crc = 0);

/// True when `crc32c` uses the SSE4.2 instruction on this machine.
bool crc32c_uses_hardware();

}  // namespace sluice
