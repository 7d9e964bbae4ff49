// linux.seccomp.listenerPath: where the notification fd of a filter with
// SCMP_ACT_NOTIFY rules goes (config-linux.md "Seccomp", "The Container
// Process State"). The process under the filter hands the fd to husk right
// after loading it (protocol.hpp, SeccompListener); husk passes it on to the
// agent listening there, podman's and Kubernetes' seccomp agents among them.
#pragma once

#include <sys/types.h>

#include <string_view>

#include "base/result.hpp"
#include "spec/config.hpp"
#include "state/container_state.hpp"

namespace husk::lifecycle {

// Whether `cfg`'s filter notifies, i.e. whether a SeccompListener message
// precedes Ready.
bool seccomp_notifies(const spec::Config& cfg);

// One connection to listenerPath (AF_UNIX, SOCK_STREAM), one message: the
// container process state as JSON (status `status`, `pid` the process under
// the filter) with `notify_fd` in SCM_RIGHTS, then closed, as the spec
// requires. Errors name linux.seccomp.listenerPath.
Status send_to_seccomp_listener(const spec::Seccomp& sc, const state::ContainerState& st,
                                std::string_view status, pid_t pid, int notify_fd);

}  // namespace husk::lifecycle
