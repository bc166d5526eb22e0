// SPDX-License-Identifier: Apache-2.0
#include "hs_search.hpp"

#include <hs/hs.h>

namespace sluice::search::detail {

HsDb& HsDb::operator=(HsDb&& o) noexcept {
  if (this != &o) {
    if (db_ != nullptr) hs_free_database(db_);
    db_ = o.db_;
    o.db_ = nullptr;
  }
  return *this;
}

HsDb::~HsDb() {
  if (db_ != nullptr) hs_free_database(db_);
}

bool HsDb::compile(const std::vector<std::string>& patterns, const std::vector<unsigned>& flags,
                   int& bad_index, std::string& message) {
  std::vector<const char*> exprs;
  std::vector<unsigned> ids;
  exprs.reserve(patterns.size());
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    exprs.push_back(patterns[i].c_str());
    ids.push_back(static_cast<unsigned>(i));
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* err = nullptr;
  const hs_error_t rc =
      hs_compile_multi(exprs.data(), flags.data(), ids.data(), static_cast<unsigned>(exprs.size()),
                       HS_MODE_BLOCK, nullptr, &db, &err);
  if (rc != HS_SUCCESS) {
    bad_index = err != nullptr ? err->expression : -1;
    message = err != nullptr && err->message != nullptr ? err->message : "hs_compile_multi failed";
    if (err != nullptr) hs_free_compile_error(err);
    return false;
  }
  if (db_ != nullptr) hs_free_database(db_);
  db_ = db;
  return true;
}

HsScratch& HsScratch::operator=(HsScratch&& o) noexcept {
  if (this != &o) {
    if (s_ != nullptr) hs_free_scratch(s_);
    s_ = o.s_;
    o.s_ = nullptr;
  }
  return *this;
}

HsScratch::~HsScratch() {
  if (s_ != nullptr) hs_free_scratch(s_);
}

bool HsScratch::reserve_for(const HsDb& db) {
  if (!db) return true;
  return hs_alloc_scratch(db.get(), &s_) == HS_SUCCESS;
}

bool HsScratch::clone_into(HsScratch& out) const {
  if (s_ == nullptr) return true;
  hs_scratch_t* copy = nullptr;
  if (hs_clone_scratch(s_, &copy) != HS_SUCCESS) return false;
  out = HsScratch();
  out.s_ = copy;
  return true;
}

bool hs_scan_text(const HsDb& db, std::string_view data, HsScratch& scratch, HsOnMatch on_match,
                  void* context) {
  const hs_error_t rc = hs_scan(db.get(), data.data(), static_cast<unsigned>(data.size()), 0,
                                scratch.get(), on_match, context);
  return rc == HS_SUCCESS || rc == HS_SCAN_TERMINATED;
}

namespace hs_flags {
const unsigned caseless = HS_FLAG_CASELESS;
const unsigned singlematch = HS_FLAG_SINGLEMATCH;
const unsigned allowempty = HS_FLAG_ALLOWEMPTY;
const unsigned dotall = HS_FLAG_DOTALL;
}  // namespace hs_flags

}  // namespace sluice::search::detail
