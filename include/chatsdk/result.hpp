// chatsdk/result.hpp — expected failures as values.
//
// Contract: a Result<T> holds either a T or an Error (code + human detail).
// Exceptions are not used for expected failures anywhere in chatsdk.
//
//   chatsdk::Result<int> parse(std::string_view s);
//   auto r = parse("12");
//   if (!r) log(r.error().message); else use(*r);
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "chatsdk/errc.hpp"

namespace chatsdk {

struct Error {
  Errc code = Errc::internal;
  std::string message;  // human detail for logs; never parse it

  friend bool operator==(const Error&, const Error&) = default;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  Result(Errc code, std::string message) : v_(Error{code, std::move(message)}) {}

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }
  Errc code() const noexcept { return ok() ? Errc::ok : std::get<1>(v_).code; }

 private:
  std::variant<T, Error> v_;
};

/// Result of an operation with no value.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error)
      : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)
  Result(Errc code, std::string message) : error_{code, std::move(message)}, ok_(false) {}

  bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const& { return error_; }
  Errc code() const noexcept { return ok_ ? Errc::ok : error_.code; }

 private:
  Error error_{Errc::ok, {}};
  bool ok_ = true;
};

}  // namespace chatsdk
