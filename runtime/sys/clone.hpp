// clone3(2) with CLONE_PIDFD: a fork-like clone (no CLONE_VM, no new stack)
// that hands the parent a pidfd for the child atomically, so the child can be
// signalled and polled without any window for pid reuse.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "base/result.hpp"
#include "sys/fd.hpp"

namespace husk::sys {

struct Cloned {
  pid_t pid = 0;   // 0 in the child
  UniqueFd pidfd;  // parent only
  [[nodiscard]] bool is_child() const { return pid == 0; }
};

// `flags` are CLONE_* bits added to CLONE_PIDFD (CLONE_NEW*, CLONE_PARENT);
// the child reports its exit with SIGCHLD (with CLONE_PARENT: to our parent,
// with our exit signal). Flush stdio before calling: the
// child gets a copy of every buffer. In the child, only async-signal-safe
// work is sound in general; husk is single-threaded, so its heap is
// consistent and the child may allocate on its error paths.
Result<Cloned> clone3_pidfd(uint64_t flags);

}  // namespace husk::sys
