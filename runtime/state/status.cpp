#include "state/status.hpp"

namespace husk::state {

std::string_view to_string(Status s) {
  switch (s) {
    case Status::Creating:
      return "creating";
    case Status::Created:
      return "created";
    case Status::Running:
      return "running";
    case Status::Paused:
      return "paused";
    case Status::Stopped:
      return "stopped";
  }
  return "unknown";
}

bool init_alive(const ContainerState& st, const LiveFacts& live) {
  if (st.pid <= 0 || !live.proc_start_time || live.proc_is_zombie) return false;
  return st.pid_start_time == 0 || *live.proc_start_time == st.pid_start_time;
}

Status derive_status(const ContainerState& st, const LiveFacts& live) {
  if (st.phase == Phase::Stopped) return Status::Stopped;
  if (live.create_in_progress) return Status::Creating;
  if (!init_alive(st, live)) return Status::Stopped;
  if (live.frozen) return Status::Paused;
  if (live.fifo_exists) return Status::Created;
  return Status::Running;
}

bool can_start(Status s) { return s == Status::Created; }

bool can_kill(Status s) {
  return s == Status::Created || s == Status::Running || s == Status::Paused;
}

bool can_delete(Status s) { return s == Status::Stopped || s == Status::Created; }

bool can_pause(Status s) { return s == Status::Created || s == Status::Running; }

bool can_resume(Status s) { return s == Status::Paused; }

bool can_exec(Status s) { return s == Status::Created || s == Status::Running; }

}  // namespace husk::state
