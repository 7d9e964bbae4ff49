// One error type for all of husk: an errno, a kind the CLI maps to behaviour,
// the failing operation, and a chain of context added on the way up.
// Rendered as "outer ctx: inner ctx: op: strerror(err)".
#pragma once

#include <fmt/format.h>

#include <cerrno>
#include <string>
#include <utility>
#include <vector>

namespace husk {

enum class ErrorKind : unsigned char {
  Sys,              // a syscall failed; err holds errno
  NotFound,         // container / file / process does not exist
  AlreadyExists,    // id in use
  InvalidSpec,      // config.json (or another JSON input) is wrong
  InvalidArgument,  // command line is wrong
  BadState,         // verb not allowed in the container's current status
  Protocol,         // parent/init message sequence broken
  Unsupported,      // valid request husk does not implement (explicit, never ignored)
};

class Error {
 public:
  Error() = default;
  Error(ErrorKind kind, int err, std::string op) : err_(err), kind_(kind), op_(std::move(op)) {}

  // A failed syscall: Error::sys(errno, "open {}", path).
  template <typename... Args>
  static Error sys(int err, fmt::format_string<Args...> f, Args&&... args) {
    return Error(ErrorKind::Sys, err, fmt::format(f, std::forward<Args>(args)...));
  }
  // A failed syscall using the current errno.
  template <typename... Args>
  static Error last(fmt::format_string<Args...> f, Args&&... args) {
    int e = errno;
    return Error(ErrorKind::Sys, e, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  static Error make(ErrorKind kind, fmt::format_string<Args...> f, Args&&... args) {
    return Error(kind, 0, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  static Error spec(fmt::format_string<Args...> f, Args&&... args) {
    return Error(ErrorKind::InvalidSpec, 0, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  static Error arg(fmt::format_string<Args...> f, Args&&... args) {
    return Error(ErrorKind::InvalidArgument, 0, fmt::format(f, std::forward<Args>(args)...));
  }

  // Add outer context: err.wrap("create container {}", id).
  template <typename... Args>
  Error& wrap(fmt::format_string<Args...> f, Args&&... args) & {
    context_.push_back(fmt::format(f, std::forward<Args>(args)...));
    return *this;
  }
  template <typename... Args>
  Error&& wrap(fmt::format_string<Args...> f, Args&&... args) && {
    context_.push_back(fmt::format(f, std::forward<Args>(args)...));
    return std::move(*this);
  }

  [[nodiscard]] int err() const { return err_; }
  [[nodiscard]] ErrorKind kind() const { return kind_; }
  [[nodiscard]] const std::string& op() const { return op_; }
  [[nodiscard]] const std::vector<std::string>& context() const { return context_; }
  // Full rendering: context (outermost first), op, and strerror when err != 0.
  [[nodiscard]] std::string message() const;

 private:
  int err_ = 0;
  ErrorKind kind_ = ErrorKind::Sys;
  std::string op_;
  std::vector<std::string> context_;  // innermost first
};

}  // namespace husk
