// The runtime-spec features document (features.md, features-linux.md) that
// `husk features` prints. The parts that depend on how husk was built or
// what its modules implement are inputs, so the document stays truthful;
// the defaults describe husk's current plan.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace husk::spec {

struct FeaturesInput {
  bool cgroup_v1 = true;
  bool cgroup_v2 = true;
  bool cgroup_systemd = true;  // --systemd-cgroup (runtime/cgroup/manager_systemd.cpp)
  bool cgroup_systemd_user = false;
  bool cgroup_rdma = true;

  // Capability names husk resolves: libcap's, filled in by the runtime
  // (linux_setup::known_capability_names); spec/ holds no table of its own.
  std::vector<std::string> capabilities;

  bool seccomp_enabled = true;
  // Default: every action, SCMP_ACT_NOTIFY included (linux.seccomp.listenerPath).
  std::vector<std::string> seccomp_actions;
  std::vector<std::string> seccomp_operators;  // default: all seven
  // Architectures the linked libseccomp resolves. Default: the 23 of
  // runtime-spec v1.3.0.
  std::vector<std::string> seccomp_archs;
  std::vector<std::string> seccomp_known_flags;      // default: all four
  std::vector<std::string> seccomp_supported_flags;  // default: all four; a subset on old kernels

  bool idmap_mounts = true;
  bool apparmor = false;
  bool selinux = false;
  bool intel_rdt = false;
  bool net_devices = false;
  // linux.memoryPolicy modes and flags husk applies (set_mempolicy(2)): none
  // yet, and create refuses the field. Printed even when empty: an absent
  // memoryPolicy would only say "unknown".
  std::vector<std::string> memory_policy_modes;
  std::vector<std::string> memory_policy_flags;

  // Added to husk's own entries (version, commit); e.g.
  // "io.github.seccomp.libseccomp.version".
  std::map<std::string, std::string> annotations;
  // Annotations husk interprets that could change its behaviour: none yet.
  std::vector<std::string> potentially_unsafe_annotations;
};

// The defaults above, with every list filled in but `capabilities`.
FeaturesInput default_features_input();

// 4-space indented JSON like `runc features`, no trailing newline.
std::string features_json(const FeaturesInput& in);

}  // namespace husk::spec
