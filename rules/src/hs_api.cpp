// SPDX-License-Identifier: Apache-2.0
/// Every Hyperscan call of the rules module, with its return code checked (STYLE.md §4).
#include "hs_api.hpp"

#include <hs/hs.h>

#include <cstdlib>

namespace sluice::rules::detail {

namespace hs_flag {
const unsigned caseless = HS_FLAG_CASELESS;
const unsigned dotall = HS_FLAG_DOTALL;
const unsigned multiline = HS_FLAG_MULTILINE;
const unsigned singlematch = HS_FLAG_SINGLEMATCH;
const unsigned allowempty = HS_FLAG_ALLOWEMPTY;
const unsigned prefilter = HS_FLAG_PREFILTER;
const unsigned utf8 = HS_FLAG_UTF8;
}  // namespace hs_flag

HsDatabase& HsDatabase::operator=(HsDatabase&& o) noexcept {
  if (this != &o) {
    if (db_) hs_free_database(db_);  // returns HS_SUCCESS or HS_INVALID for a null handle only
    db_ = o.db_;
    o.db_ = nullptr;
  }
  return *this;
}

HsDatabase::~HsDatabase() {
  if (db_) hs_free_database(db_);
}

HsScratch& HsScratch::operator=(HsScratch&& o) noexcept {
  if (this != &o) {
    if (s_) hs_free_scratch(s_);
    s_ = o.s_;
    o.s_ = nullptr;
  }
  return *this;
}

HsScratch::~HsScratch() {
  if (s_) hs_free_scratch(s_);
}

Result<void> HsScratch::reserve_for(const HsDatabase& db) {
  if (!db) return {};
  const hs_error_t rc = hs_alloc_scratch(db.get(), &s_);
  if (rc != HS_SUCCESS) return Error{"hs_alloc_scratch failed (code " + std::to_string(rc) + ")"};
  return {};
}

Result<HsScratch> HsScratch::clone() const {
  HsScratch copy;
  if (!s_) return copy;
  const hs_error_t rc = hs_clone_scratch(s_, &copy.s_);
  if (rc != HS_SUCCESS) return Error{"hs_clone_scratch failed (code " + std::to_string(rc) + ")"};
  return copy;
}

namespace {
void take_error(hs_compile_error_t* err, HsCompileFailure& failure) {
  if (err) {
    failure.expression = err->expression;
    failure.message = err->message ? err->message : "unknown error";
    hs_free_compile_error(err);
  }
}
}  // namespace

bool hs_compile_literals(const std::vector<std::string>& literals,
                         const std::vector<unsigned>& flags, HsDatabase& out,
                         HsCompileFailure& failure) {
  std::vector<const char*> ptrs;
  std::vector<std::size_t> lens;
  std::vector<unsigned> ids;
  for (std::size_t i = 0; i < literals.size(); ++i) {
    ptrs.push_back(literals[i].data());
    lens.push_back(literals[i].size());
    ids.push_back(static_cast<unsigned>(i));
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* err = nullptr;
  const hs_error_t rc = hs_compile_lit_multi(ptrs.data(), flags.data(), ids.data(), lens.data(),
                                             static_cast<unsigned>(literals.size()), HS_MODE_BLOCK,
                                             nullptr, &db, &err);
  if (rc != HS_SUCCESS) {
    take_error(err, failure);
    return false;
  }
  out = HsDatabase(db);
  return true;
}

bool hs_compile_regexes(const std::vector<std::string>& patterns,
                        const std::vector<unsigned>& flags, HsDatabase& out,
                        HsCompileFailure& failure) {
  std::vector<const char*> ptrs;
  std::vector<unsigned> ids;
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    ptrs.push_back(patterns[i].c_str());
    ids.push_back(static_cast<unsigned>(i));
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* err = nullptr;
  const hs_error_t rc =
      hs_compile_multi(ptrs.data(), flags.data(), ids.data(),
                       static_cast<unsigned>(patterns.size()), HS_MODE_BLOCK, nullptr, &db, &err);
  if (rc != HS_SUCCESS) {
    take_error(err, failure);
    return false;
  }
  out = HsDatabase(db);
  return true;
}

bool hs_accepts(const std::string& pattern, unsigned flags, std::string& message) {
  hs_database_t* db = nullptr;
  hs_compile_error_t* err = nullptr;
  const hs_error_t rc = hs_compile(pattern.c_str(), flags, HS_MODE_BLOCK, nullptr, &db, &err);
  if (rc != HS_SUCCESS) {
    HsCompileFailure f;
    take_error(err, f);
    message = f.message;
    return false;
  }
  hs_free_database(db);
  return true;
}

bool hs_serialize(const HsDatabase& db, std::string& out) {
  char* bytes = nullptr;
  std::size_t length = 0;
  if (hs_serialize_database(db.get(), &bytes, &length) != HS_SUCCESS) return false;
  out.assign(bytes, length);
  std::free(bytes);  // hs_serialize_database allocates with the misc allocator, malloc by default
  return true;
}

bool hs_deserialize(std::string_view bytes, HsDatabase& out) {
  hs_database_t* db = nullptr;
  if (hs_deserialize_database(bytes.data(), bytes.size(), &db) != HS_SUCCESS) return false;
  out = HsDatabase(db);
  return true;
}

const char* hs_version_string() {
  return hs_version();
}

bool hs_scan_block(const HsDatabase& db, std::string_view data, HsScratch& scratch,
                   HsMatchFn on_match, void* context) {
  static const char empty[1] = {0};
  const char* p = data.empty() ? empty : data.data();
  const hs_error_t rc =
      hs_scan(db.get(), p, static_cast<unsigned>(data.size()), 0, scratch.get(), on_match, context);
  return rc == HS_SUCCESS || rc == HS_SCAN_TERMINATED;
}

}  // namespace sluice::rules::detail
