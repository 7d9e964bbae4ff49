// Steps shared by every process husk clones into a container (the init of
// `create` and the process of `exec`), run in the child between clone and
// execve: raw syscalls only, no allocation on the success path.
#pragma once

#include <sys/types.h>

#include <array>
#include <optional>

#include "base/result.hpp"
#include "spec/config.hpp"
#include "sys/fd.hpp"

namespace husk::linux_setup {

// husk may block or handle signals (run and exec forward them through a
// signalfd); the mask and ignored dispositions survive execve (signal(7)),
// so the container would inherit them. Back to the defaults.
void reset_signals();

// The process user must be able to reopen its stdio (/proc/self/fd/N, e.g.
// `> /dev/stdout`), so stdio owned by someone else goes to the process uid,
// as runc does; the null device (1:3) is shared and left alone, and stdio
// the user namespace cannot chown (EINVAL, EPERM) or on a read-only fs is
// skipped.
// With reopen_null (the init without a terminal): a caller may hand over
// /dev/null opened read-only as stdout and stderr: containerd's shim does for
// `ctr run --null-io` (go-runc opens os.DevNull with O_RDONLY for all three),
// and a container writing there gets EBADF. As runc does, each stdio fd that
// is the null device is replaced by the container's /dev/null opened
// read-write. Only a verified null device (1:3) is put in place: after
// pivot_root, /dev/null is whatever the rootfs has; without one the caller's
// fds stay. One fstat per fd serves both steps.
Status setup_stdio(uid_t uid, bool reopen_null);
inline Status fix_stdio_owner(uid_t uid) { return setup_stdio(uid, false); }

// Only stdio and the `preserve` fds from 3 on may cross execve
// (CVE-2024-21626: a leaked fd of a host directory lets the container escape
// through /proc/self/fd/N). Marking the others close-on-exec is not enough:
// they stay open while execve (and our own executable check) resolves
// process.args[0], so "/proc/self/fd/N/../../bin/sh" would still walk out
// through one of them. A cloned child's table holds everything the parent had
// open and whatever the caller leaked to husk: all of it is closed here,
// except the fds in `keep` (-1 = unused, at most 4), which are left open but
// close-on-exec (the channel to the parent, whose end-of-file then tells it
// that execve happened).
Status seal_fds(int preserve, std::array<int, 4> keep);

// A new pty from /dev/ptmx of the current mount namespace (the container's
// own devpts, so the slave's name and permissions are the container's), with
// process.consoleSize applied. TIOCGPTPEER (4.13) opens the slave without a
// path lookup that a container-controlled /dev/pts could redirect.
struct Pty {
  sys::UniqueFd master, slave;
  char name[32] = {};  // "/dev/pts/<n>": the console socket's payload
};
Status open_pty(Pty& pty, const std::optional<spec::ConsoleSize>& size);

// The slave becomes stdio and the controlling terminal of the caller's
// session (it must be a session leader: setsid first).
Status pty_as_stdio(int slave);

}  // namespace husk::linux_setup
