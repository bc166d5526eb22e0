// SPDX-License-Identifier: Apache-2.0
/// The one file pair of search/ that calls Hyperscan. Every `hs_*` return code is checked here.
/// Owners free their handles in destructors. Private to core/src/search.
#pragma once

#include <string>
#include <string_view>
#include <vector>

struct hs_database;
struct hs_scratch;

namespace sluice::search::detail {

/// One compiled block-mode database. Immutable after compile; shareable between threads.
class HsDb {
 public:
  HsDb() = default;
  HsDb(HsDb&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  HsDb& operator=(HsDb&& o) noexcept;
  HsDb(const HsDb&) = delete;
  HsDb& operator=(const HsDb&) = delete;
  ~HsDb();
  hs_database* get() const { return db_; }
  explicit operator bool() const { return db_ != nullptr; }

  /// Compiles `patterns` (ids 0..n-1) with `flags[i]`. On failure returns false and sets
  /// `bad_index` (the failing expression, or -1) and `message`.
  bool compile(const std::vector<std::string>& patterns, const std::vector<unsigned>& flags,
               int& bad_index, std::string& message);

 private:
  hs_database* db_ = nullptr;
};

/// One scratch space; not thread-safe (one per scanning thread).
class HsScratch {
 public:
  HsScratch() = default;
  HsScratch(HsScratch&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  HsScratch& operator=(HsScratch&& o) noexcept;
  HsScratch(const HsScratch&) = delete;
  HsScratch& operator=(const HsScratch&) = delete;
  ~HsScratch();
  /// Grows the scratch so it can scan `db`; false when Hyperscan cannot allocate.
  bool reserve_for(const HsDb& db);
  /// A copy for another thread; false when Hyperscan cannot allocate.
  bool clone_into(HsScratch& out) const;
  hs_scratch* get() const { return s_; }

 private:
  hs_scratch* s_ = nullptr;
};

/// Match callback: return non-zero to stop the scan.
using HsOnMatch = int (*)(unsigned id, unsigned long long from, unsigned long long to,
                          unsigned flags, void* context);

/// Scans `data`; false on a Hyperscan error (a scan stopped by the callback is not one).
/// Does not allocate.
bool hs_scan_text(const HsDb& db, std::string_view data, HsScratch& scratch, HsOnMatch on_match,
                  void* context);

/// HS_FLAG_* values, so callers need not include hs.h.
namespace hs_flags {
extern const unsigned caseless, singlematch, allowempty, dotall;
}

}  // namespace sluice::search::detail
