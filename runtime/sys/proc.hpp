// /proc/<pid>/stat, read robustly. The comm field (2) is "(name)" where name
// may itself contain spaces and ')', so fields are counted from the LAST ')'
// (proc(5)). The start time (field 22, clock ticks since boot) together with
// the pid identifies a process across pid reuse.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>

#include "base/result.hpp"

namespace husk::sys {

struct ProcStat {
  char state = '?';         // field 3: R S D Z T t X I ...
  pid_t ppid = 0;           // field 4
  uint64_t start_time = 0;  // field 22
  [[nodiscard]] bool zombie_or_dead() const { return state == 'Z' || state == 'X' || state == 'x'; }
};

// Parse the contents of a stat file. InvalidArgument if malformed.
Result<ProcStat> parse_proc_stat(std::string_view content);

// Read /proc/<pid>/stat. NotFound (err ESRCH) if there is no such process.
Result<ProcStat> read_proc_stat(pid_t pid);

// The live process with this pid, if its start time matches (0 = any).
// nullopt if gone, a zombie, or a different process.
Result<std::optional<ProcStat>> find_process(pid_t pid, uint64_t start_time);

}  // namespace husk::sys
