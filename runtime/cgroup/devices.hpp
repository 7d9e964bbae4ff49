// Device access control on cgroup v2: a BPF_PROG_TYPE_CGROUP_DEVICE program
// (kernel 4.15+) attached to the container's cgroup. v2 has no devices.allow
// file; the kernel runs the program on every open/mknod of a device node by a
// task in the cgroup and allows the access iff it returns 1.
//
// Rule semantics (same list as v1's devices.allow/deny, default deny): each
// requested access bit (r, w, m) is decided by the LAST rule that matches the
// device and contains that bit; the access is allowed iff every requested bit
// is allowed. The program walks the rules from last to first, clearing
// granted bits, and denies as soon as a deny rule covers a pending bit.
#pragma once

#include <linux/bpf.h>

#include <vector>

#include "base/result.hpp"
#include "cgroup/resources.hpp"

namespace husk::cgroup {

// The program text. Context (struct bpf_cgroup_dev_ctx): access_type at 0
// (access << 16 | type), major at 4, minor at 8.
std::vector<bpf_insn> compile_device_filter(const std::vector<DeviceRule>& rules);

// Load the program and attach it to the cgroup directory `cgroup_dirfd`
// (BPF_F_ALLOW_MULTI), then detach any program a previous husk call
// attached there, so the container is never left without a filter.
Status install_device_filter(int cgroup_dirfd, const std::vector<DeviceRule>& rules);

}  // namespace husk::cgroup
