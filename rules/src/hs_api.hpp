// SPDX-License-Identifier: Apache-2.0
/// The one file pair that calls Hyperscan. Every `hs_*` return code is checked here and turned
/// into a `Result`, a bool, or (on the scan path, where nothing may allocate or throw) a status
/// the caller counts. Owners free their handles in destructors.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/common/result.hpp"

struct hs_database;
struct hs_scratch;

namespace sluice::rules::detail {

/// Owns one compiled block-mode database. Immutable after compile; shareable between threads.
class HsDatabase {
 public:
  HsDatabase() = default;
  explicit HsDatabase(hs_database* db) : db_(db) {}
  HsDatabase(HsDatabase&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  HsDatabase& operator=(HsDatabase&& o) noexcept;
  HsDatabase(const HsDatabase&) = delete;
  HsDatabase& operator=(const HsDatabase&) = delete;
  ~HsDatabase();
  hs_database* get() const { return db_; }
  explicit operator bool() const { return db_ != nullptr; }

 private:
  hs_database* db_ = nullptr;
};

/// Owns one scratch space. Not thread-safe: one per scanner (Hyperscan's contract).
class HsScratch {
 public:
  HsScratch() = default;
  HsScratch(HsScratch&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  HsScratch& operator=(HsScratch&& o) noexcept;
  HsScratch(const HsScratch&) = delete;
  HsScratch& operator=(const HsScratch&) = delete;
  ~HsScratch();
  hs_scratch* get() const { return s_; }
  /// Grows the scratch so it can scan `db` (hs_alloc_scratch).
  Result<void> reserve_for(const HsDatabase& db);
  /// A copy for another thread (hs_clone_scratch); an empty scratch clones to empty.
  Result<HsScratch> clone() const;

 private:
  hs_scratch* s_ = nullptr;
};

/// Why a multi-pattern compile failed: the expression index Hyperscan names (or -1) and its text.
struct HsCompileFailure {
  int expression = -1;
  std::string message;
};

/// Compiles literals (hs_compile_lit_multi); `flags[i]` are HS_FLAG_* bits, ids are 0..n-1.
bool hs_compile_literals(const std::vector<std::string>& literals,
                         const std::vector<unsigned>& flags, HsDatabase& out,
                         HsCompileFailure& failure);

/// Compiles regexes (hs_compile_multi); ids are 0..n-1.
bool hs_compile_regexes(const std::vector<std::string>& patterns,
                        const std::vector<unsigned>& flags, HsDatabase& out,
                        HsCompileFailure& failure);

/// True when Hyperscan compiles `pattern` with `flags` on its own; `message` says why not.
bool hs_accepts(const std::string& pattern, unsigned flags, std::string& message);

/// Serializes `db` (hs_serialize_database) into `out`; false on failure.
bool hs_serialize(const HsDatabase& db, std::string& out);

/// Rebuilds a database from `bytes` (hs_deserialize_database); false when the bytes are not a
/// database this Hyperscan build and CPU can run (then compile instead).
bool hs_deserialize(std::string_view bytes, HsDatabase& out);

/// Hyperscan's version string (hs_version), part of database cache keys.
const char* hs_version_string();

/// Called for each match; return true to stop scanning.
using HsMatchFn = int (*)(unsigned id, unsigned long long from, unsigned long long to,
                          unsigned flags, void* context);

/// Scans one block. Returns false on a Hyperscan error (never allocates, never throws); a scan
/// stopped by the callback is not an error.
bool hs_scan_block(const HsDatabase& db, std::string_view data, HsScratch& scratch,
                   HsMatchFn on_match, void* context);

/// HS_FLAG_* values, so callers need not include hs.h.
namespace hs_flag {
extern const unsigned caseless, dotall, multiline, singlematch, allowempty, prefilter, utf8;
}

}  // namespace sluice::rules::detail
