// The container status a user sees, derived by one pure function from what
// was recorded and what is live. Order (first match wins):
//   recorded Stopped                                 -> stopped
//   a create still holds its "creating" mark         -> creating
//   no init, init a zombie, or pid reused (start
//     time differs)                                  -> stopped
//   cgroup frozen                                    -> paused
//   exec.fifo exists                                 -> created
//   otherwise                                        -> running
// (runtime.md: "stopped" once the process exited; runc adds "paused".)
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
  // Another process's create is still working on the container (its mark
  // in the state store's lock file).
  bool create_in_progress = false;
};

Status derive_status(const ContainerState& st, const LiveFacts& live);

// Whether the recorded init process is the live one (pid set, same start
// time, not a zombie). A recorded start time of 0 (unknown) matches any.
bool init_alive(const ContainerState& st, const LiveFacts& live);

// What each verb may act on without --force (runc 1.1 semantics).
bool can_start(Status s);   // created
bool can_kill(Status s);    // created, running, paused
bool can_delete(Status s);  // stopped; created (delete kills its init, as runc)
bool can_pause(Status s);   // created, running (runc freezes a created container too)
bool can_resume(Status s);  // paused
bool can_exec(Status s);    // created, running (paused needs --ignore-paused)

}  // namespace husk::state
