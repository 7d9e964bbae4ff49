#pragma once

#include <fmt/format.h>

#include <chrono>

#include "lifecycle/lifecycle.hpp"

namespace husk::lifecycle {

// --debug prints one line per phase: "phase=NAME duration=X.XXXms" (what
// scripts/bench's breakdown collects). Without --debug a mark costs one clock
// read: the message is only formatted when debug lines are wanted.
class PhaseTimer {
 public:
  using Clock = std::chrono::steady_clock;
  explicit PhaseTimer(const Context& ctx) : ctx_(ctx), t_(Clock::now()) {}
  void mark(const char* phase) {
    auto now = Clock::now();
    if (ctx_.debug_enabled) {
      double ms = std::chrono::duration<double, std::milli>(now - t_).count();
      ctx_.debug(fmt::format("phase={} duration={:.3f}ms", phase, ms));
    }
    t_ = now;
  }

 private:
  const Context& ctx_;
  Clock::time_point t_;
};

}  // namespace husk::lifecycle
