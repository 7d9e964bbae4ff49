// Result<T>: a value or an Error, with the API subset of std::expected we use,
// so the type can later become std::expected<T, Error>.
// TRY(expr) returns the error from the enclosing function; TRY(expr) on a
// Result<T> also yields the T (GCC/Clang statement expression).
#pragma once

#include <cassert>
#include <optional>
#include <utility>
#include <variant>

#include "base/error.hpp"

namespace husk {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value)
      : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error e)
      : v_(std::in_place_index<1>, std::move(e)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    assert(has_value());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  Error& error() & {
    assert(!has_value());
    return std::get<1>(v_);
  }
  const Error& error() const& {
    assert(!has_value());
    return std::get<1>(v_);
  }
  Error&& error() && {
    assert(!has_value());
    return std::get<1>(std::move(v_));
  }

  T value_or(T other) const& { return has_value() ? value() : std::move(other); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e) : e_(std::move(e)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool has_value() const { return !e_.has_value(); }
  explicit operator bool() const { return has_value(); }
  void value() const { assert(has_value()); }

  Error& error() & { return *e_; }
  const Error& error() const& { return *e_; }
  Error&& error() && { return std::move(*e_); }

 private:
  std::optional<Error> e_;
};

using Status = Result<void>;

inline Result<void> ok() { return {}; }

namespace detail {
template <typename T>
T take_value(Result<T>&& r) {
  return std::move(r).value();
}
inline void take_value(Result<void>&& /*r*/) {}
}  // namespace detail

}  // namespace husk

// Propagate an error; evaluates to the value (or void).
#define TRY(expr)                                            \
  ({                                                         \
    auto husk_try_r_ = (expr);                               \
    if (!husk_try_r_) return std::move(husk_try_r_).error(); \
    ::husk::detail::take_value(std::move(husk_try_r_));      \
  })

// Propagate an error after adding context: TRY_CTX(expr, "mount {}", dst).
#define TRY_CTX(expr, ...)                                                     \
  ({                                                                           \
    auto husk_try_r_ = (expr);                                                 \
    if (!husk_try_r_) return std::move(husk_try_r_).error().wrap(__VA_ARGS__); \
    ::husk::detail::take_value(std::move(husk_try_r_));                        \
  })
