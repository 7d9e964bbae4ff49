#pragma once

#include <fmt/format.h>

#include <chrono>

#include "base/phases.hpp"
#include "lifecycle/lifecycle.hpp"

namespace husk::lifecycle {

// --debug prints one line per phase: "phase=NAME duration=X.XXXms" (what
// scripts/bench's breakdown collects). Without --debug a mark costs one clock
// read: the message is only formatted when debug lines are wanted. Each mark
// is also a fault point (base/phases.hpp) in builds that have them.
template <Verb V>
class PhaseTimer {
 public:
  using Clock = std::chrono::steady_clock;
  explicit PhaseTimer(const Context& ctx) : ctx_(ctx), t_(Clock::now()) {}
  void mark(PhaseOf<V> phase) {
    auto now = Clock::now();
    if (ctx_.debug_enabled) {
      double ms = std::chrono::duration<double, std::milli>(now - t_).count();
      ctx_.debug(fmt::format("phase={} duration={:.3f}ms", phase.name, ms));
    }
    fault_point(V, phase.name);
    t_ = now;
  }

 private:
  const Context& ctx_;
  Clock::time_point t_;
};

using CreateTimer = PhaseTimer<Verb::Create>;

}  // namespace husk::lifecycle
