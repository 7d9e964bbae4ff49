// The container status a user sees, derived by one pure function from what
// was recorded and what is live. Order follows runtime.md: a frozen cgroup is
// "paused"; a dead or replaced init is "stopped"; an existing exec.fifo means
// "created"; otherwise "running".
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "state/container_state.hpp"

namespace husk::state {

enum class Status : unsigned char { Creating, Created, Running, Paused, Stopped };

std::string_view to_string(Status s);

struct LiveFacts {
  // Start time of the process now holding the recorded pid; nullopt if no such
  // process (or it is a zombie we reaped).
  std::optional<uint64_t> proc_start_time;
  bool proc_is_zombie = false;
  bool fifo_exists = false;
  bool frozen = false;
};

Status derive_status(const ContainerState& st, const LiveFacts& live);

// What each verb may act on (runc semantics).
bool can_start(Status s);   // created
bool can_kill(Status s);    // created, running, paused
bool can_delete(Status s);  // stopped (or created/creating with --force ... see delete)
bool can_pause(Status s);   // running
bool can_resume(Status s);  // paused
bool can_exec(Status s);    // created? no: running (runc allows exec in created too)

}  // namespace husk::state
