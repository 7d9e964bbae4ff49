// linux.seccomp -> a classic-BPF program, compiled with libseccomp in the
// parent (optionally through an on-disk cache) so that the container's init
// only has to call seccomp(SECCOMP_SET_MODE_FILTER) right before execve.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "spec/config.hpp"

namespace husk::linux_setup {

struct SeccompProgram {
  std::vector<sock_filter> insns;  // the filter as the kernel takes it
  unsigned int flags = 0;          // SECCOMP_FILTER_FLAG_* for seccomp(2)
  bool from_cache = false;         // true when read back from the cache dir
  // Some rule is SCMP_ACT_NOTIFY: flags include SECCOMP_FILTER_FLAG_NEW_LISTENER
  // and loading yields a notification fd for linux.seccomp.listenerPath.
  bool notify = false;
};

// Takes the notification fd of a NOTIFY filter at once after the load (the
// container's init hands it to its parent: protocol.hpp, SeccompListener).
// It runs under the new filter, so it may only use syscalls the profile
// cannot notify (spec/validate.cpp refuses NOTIFY for them). The fd is
// closed after it returns.
using ListenerSink = std::function<Status(int listener_fd)>;

struct SeccompOptions {
  // Directory for compiled filters, e.g. "/var/cache/husk/seccomp";
  // created 0700 on first store. Empty: always compile.
  std::string cache_dir;
  // libseccomp's binary-tree layout (SCMP_FLTATR_CTL_OPTIMIZE=2): the same
  // decisions as its default linear list, in a program the kernel loads
  // several times faster (see compile()). false: the linear list, which the
  // tests compare the tree against.
  bool binary_tree = true;
};

// Validate and compile. Every error names the linux.seccomp field. Syscall names that
// libseccomp cannot resolve for this build/arch are skipped, as runc does.
// Warnings (ignored flags, unknown architectures) are appended to `warnings`.
Result<SeccompProgram> compile_seccomp(const spec::Seccomp& sc, const SeccompOptions& opts,
                                       std::vector<std::string>& warnings);

// The cache key's input: a deterministic serialization of every field that
// affects the program, plus libseccomp's version, API level and native arch.
// Exposed for tests.
std::string seccomp_canonical_form(const spec::Seccomp& sc, bool binary_tree = true);
uint64_t fnv1a64(std::string_view data);

// Whether libseccomp resolves `name` to a syscall of the native
// architecture: the resolution compile_seccomp uses, which skips the names
// it cannot resolve (`husk check` lists them).
bool seccomp_knows_syscall(const std::string& name);

// Child side: install the filter with the planned flags. Needs either
// no_new_privs or CAP_SYS_ADMIN in the current user namespace (seccomp(2)).
// A NOTIFY program needs `sink` (an error without one).
Status load_seccomp(const SeccompProgram& prog, const ListenerSink& sink = {});

}  // namespace husk::linux_setup
