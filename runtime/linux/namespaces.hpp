// Which namespaces the container's init creates and which it joins, and in
// what order. Planned in the parent (pure), the paths opened before any state
// exists, then carried out partly by the parent (pid_for_children, id maps)
// and partly by the init (setns, unshare, time offsets).
//
// Ordering rules the plan encodes (namespaces(7), setns(2), user_namespaces(7)):
//  - setns(2) into a namespace needs CAP_SYS_ADMIN in the user namespace that
//    owns it *and* in the caller's own one. So a joined user namespace is
//    entered first (it grants the capabilities for the joins that follow),
//    while namespaces owned by the host are joined *before* a new user
//    namespace is created (inside it, the host-owned ones are out of reach).
//  - New namespaces are owned by the user namespace their creator is in.
//    clone3 with CLONE_NEWUSER | CLONE_NEWxxx creates the user namespace
//    first, so everything else is owned by it, which e.g. mounting procfs for
//    a new pid namespace requires.
//  - A new pid namespace holds only processes created after it: the init
//    must be *created* inside it. When the pid namespace must come after
//    steps that only the child can do (joining a user namespace, or joins
//    before creating one), the child creates it and clones the real init
//    (the "intermediate" path), which it hands to the parent over the socket.
//  - A pid namespace given by path is joined by the parent: setns(2) on a
//    pid namespace changes only pid_for_children, so the parent sets it
//    around clone3 and restores its own afterwards.
//  - The cgroup namespace is created after the init joined its cgroup (the
//    namespace's root is the creator's cgroup at that moment).
//  - A time namespace can get clock offsets only before any process is in
//    it, and clone3(CLONE_NEWTIME) puts the child in it at once. So the init
//    unshare(CLONE_NEWTIME)s (only its future children would enter it),
//    writes /proc/self/timens_offsets (which edits that not-yet-used
//    namespace), then setns(2)s itself into /proc/self/ns/time_for_children
//    (time_namespaces(7)).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "spec/config.hpp"
#include "sys/fd.hpp"

namespace husk::linux_setup {

// CLONE_NEW* for a namespace type, its /proc/<pid>/ns/ name ("net") and
// its config.json name ("network").
int clone_flag(spec::NamespaceType t);
std::string_view proc_ns_name(spec::NamespaceType t);
std::string_view spec_ns_name(spec::NamespaceType t);

struct NsJoin {
  spec::NamespaceType type = spec::NamespaceType::Pid;
  std::string path;
  size_t index = 0;  // in linux.namespaces, for messages
  sys::UniqueFd fd;  // filled by open_namespace_paths
};

struct NamespacePlan {
  // Created by clone3 itself.
  uint64_t clone_flags = 0;
  // Created by the init with unshare(2) after its joins (the user namespace
  // among them, when joins must precede it). Never CLONE_NEWPID.
  int unshare_flags = 0;
  bool new_user = false, new_pid = false, new_mount = false, new_uts = false;
  bool new_cgroup = false, new_time = false, new_net = false;
  bool join_mount = false;
  // husk is not root: the init stays dumpable until its maps are written.
  bool unprivileged_parent = false;
  // The init creates the pid namespace and clones the real init into it.
  bool intermediate = false;

  std::optional<NsJoin> user_join;  // entered first by the init
  std::vector<NsJoin> joins;        // then these, in config order
  std::optional<NsJoin> pid_join;   // by the parent, around clone3

  std::string uid_map, gid_map;  // /proc/<pid>/{uid,gid}_map contents
  // The same maps as config ranges, for newuidmap/newgidmap when husk may
  // not write them itself (rootless.hpp, map_writer).
  std::vector<spec::IdMapping> uid_ranges, gid_ranges;
  std::string timens_offsets;  // /proc/self/timens_offsets contents

  NamespacePlan() = default;
  NamespacePlan(NamespacePlan&&) = default;
  NamespacePlan& operator=(NamespacePlan&&) = default;
};

// Pure: types, duplicates, paths, mappings, time offsets, hostname and
// domainname against the namespaces. Errors name the field.
Result<NamespacePlan> plan_namespaces(const spec::Config& cfg);

// Open every namespace path (O_RDONLY) and check it is a namespace of the
// declared type (ioctl NS_GET_NSTYPE). Errors name linux.namespaces[i].path.
Status open_namespace_paths(NamespacePlan& plan);

// ---- parent side ----

// Points the parent's pid_for_children at a pid namespace for as long as it
// lives (clone3 happens meanwhile), then back at the parent's own: `create`
// for a pid namespace joined by path, `exec` for the one of the container's
// init (a pid namespace holds only processes created inside it).
class PidNsForChildren {
 public:
  // The plan's joined pid namespace; none joined: no switch.
  static Result<PidNsForChildren> enter(const NamespacePlan& plan);
  // The pid namespace of `ns_fd`, a namespace fd or a pidfd (setns(2)); -1:
  // no switch. `failed_op` is the error's operation when setns fails.
  static Result<PidNsForChildren> enter(int ns_fd, std::string_view failed_op);
  PidNsForChildren(PidNsForChildren&&) = default;
  PidNsForChildren& operator=(PidNsForChildren&&) = delete;
  PidNsForChildren(const PidNsForChildren&) = delete;
  ~PidNsForChildren();

 private:
  explicit PidNsForChildren(sys::UniqueFd own) : own_(std::move(own)) {}
  sys::UniqueFd own_;
};

// The namespaces of a live process (`proc_dir`: its /proc/<pid>) that are not
// the caller's, as CLONE_NEW* flags: what `exec` joins. setns(2) into one's
// own user namespace is EINVAL (it would re-grant capabilities), and the
// other joins would be no-ops. A type this kernel lacks is skipped.
Result<int> foreign_namespaces(int proc_dir);

// Write the init's uid_map and gid_map, each directly or through
// newuidmap/newgidmap (rootless.hpp, map_writer); setgroups "deny" first
// when husk writes gid_map itself without CAP_SETGID, as the kernel requires.
Status write_id_maps(const NamespacePlan& plan, pid_t pid);

// ---- init side (after clone) ----

// setns into the joined user namespace, then the other joined namespaces.
Status join_namespaces(const NamespacePlan& plan);
// unshare(unshare_flags).
Status unshare_namespaces(const NamespacePlan& plan);
// Become uid/gid 0 of the (new or joined) user namespace and drop the host's
// supplementary groups.
Status become_userns_root(const NamespacePlan& plan);
// The cgroup and time namespaces (see the ordering notes above); and `lo` up
// in a new network namespace.
Status create_late_namespaces(const NamespacePlan& plan);
// create_late_namespaces in its two parts, for an init that starts before it
// is in its cgroups (init.cpp, starts_early): lo up first; the cgroup and
// time namespaces only after the move, since a new cgroup namespace is
// rooted at the cgroup its creator is in.
Status bring_up_new_loopback(const NamespacePlan& plan);
Status create_cgroup_time_namespaces(const NamespacePlan& plan);

}  // namespace husk::linux_setup
