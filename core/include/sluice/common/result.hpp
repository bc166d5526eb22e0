// SPDX-License-Identifier: Apache-2.0
/// `Result<T>` carries a value or an `Error` for environment failures (bind, open, mmap).
/// GCC 12 in C++20 mode has no `std::expected`; the member names match it (`has_value`, `value`,
/// `error`) so the later move is a rename. Errors name what failed and where.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

#include "sluice/common/assert.hpp"

namespace sluice {

/// A failure with a human-readable message that names what failed and where.
struct Error {
  std::string message;

  /// Builds an error from `what` plus the text of `errno_value`.
  static Error from_errno(std::string what, int errno_value = errno) {
    return Error{std::move(what) + ": " + std::strerror(errno_value)};
  }
};

/// Tag for constructing an error result: `return Unexpected{Error{"..."}};`
struct Unexpected {
  Error error;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  Result(Unexpected u) : state_(std::in_place_index<1>, std::move(u.error)) {}
  Result(Error e) : state_(std::in_place_index<1>, std::move(e)) {}

  bool has_value() const { return state_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    SLUICE_ASSERT(has_value(), "Result::value() on an error: " + std::get<1>(state_).message);
    return std::get<0>(state_);
  }
  const T& value() const& {
    SLUICE_ASSERT(has_value(), "Result::value() on an error: " + std::get<1>(state_).message);
    return std::get<0>(state_);
  }
  T&& value() && {
    SLUICE_ASSERT(has_value(), "Result::value() on an error: " + std::get<1>(state_).message);
    return std::get<0>(std::move(state_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

  const Error& error() const {
    SLUICE_ASSERT(!has_value(), "Result::error() on a value");
    return std::get<1>(state_);
  }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Unexpected u) : error_(std::move(u.error)), failed_(true) {}
  Result(Error e) : error_(std::move(e)), failed_(true) {}

  bool has_value() const { return !failed_; }
  explicit operator bool() const { return has_value(); }
  void value() const {
    SLUICE_ASSERT(has_value(), "Result::value() on an error: " + error_.message);
  }
  const Error& error() const {
    SLUICE_ASSERT(failed_, "Result::error() on a value");
    return error_;
  }

 private:
  Error error_;
  bool failed_ = false;
};

}  // namespace sluice
