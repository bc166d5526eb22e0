// SPDX-License-Identifier: Apache-2.0
/// Private helpers shared by the store's encoders and decoders: zigzag coding and a
/// bounds-checked cursor over bytes read from a file (every read checks the end; the first
/// failure sticks and later reads return zeros).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace sluice::detail {

inline std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
inline std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>((v >> 1) ^ (~(v & 1) + 1));
}

/// Bounds-checked reader over a payload.
class Cursor {
 public:
  explicit Cursor(std::string_view s) : p_(s.data()), end_(s.data() + s.size()) {}
  bool ok() const { return ok_; }
  bool at_end() const { return p_ == end_; }

  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return fail();
      auto b = static_cast<unsigned char>(*p_++);
      v |= std::uint64_t{b & 0x7Fu} << shift;
      if (!(b & 0x80)) return v;
    }
    return fail();
  }
  template <class T>
  T fixed() {
    if (static_cast<std::size_t>(end_ - p_) < sizeof(T)) return static_cast<T>(fail());
    T v;
    std::memcpy(&v, p_, sizeof v);
    p_ += sizeof v;
    return v;
  }
  std::string_view bytes(std::uint64_t n) {
    if (static_cast<std::uint64_t>(end_ - p_) < n) return fail(), std::string_view{};
    std::string_view s(p_, n);
    p_ += n;
    return s;
  }
  /// Marks the cursor failed (a value it read turned out invalid).
  void set_failed() { fail(); }
  /// Bytes left.
  std::size_t left() const { return static_cast<std::size_t>(end_ - p_); }
  /// Where the cursor is.
  const char* position() const { return p_; }
  std::string_view slot(std::string_view raw) {
    std::uint64_t tag = varint();
    std::uint64_t n = tag >> 1;
    if (!(tag & 1)) return bytes(n);
    std::uint64_t off = varint();
    if (off > raw.size() || n > raw.size() - off) return fail(), std::string_view{};
    return raw.substr(off, n);
  }

 private:
  std::uint64_t fail() {
    ok_ = false;
    p_ = end_;
    return 0;
  }
  const char* p_;
  const char* end_;
  bool ok_ = true;
};

}  // namespace sluice::detail
