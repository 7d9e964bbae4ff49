#include "lifecycle/check.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "cgroup/cgroup.hpp"
#include "cgroup/resources.hpp"
#include "lifecycle/create.hpp"
#include "linux/capabilities.hpp"
#include "linux/lsm.hpp"
#include "linux/namespaces.hpp"
#include "linux/paths.hpp"
#include "linux/process.hpp"
#include "linux/rootfs.hpp"
#include "linux/seccomp.hpp"
#include "spec/mount_options.hpp"
#include "spec/parse.hpp"
#include "spec/validate.hpp"

namespace husk::lifecycle {
namespace {

using spec::Diagnostics;
using spec::Severity;

// Records e unless an error already names its path or one above it: the
// plan stage repeats some of validation's rules, and a wrong value found
// by parsing hides what later steps say of the same field.
void take(Diagnostics& d, const Status& s) {
  if (s) return;
  auto [path, message] = spec::split_path_message(s.error().message());
  if (!path.empty() && d.has_error_at_or_above(path)) return;
  d.error(s.error());
}

void warnings(Diagnostics& d, const std::vector<std::string>& lines) {
  for (const auto& w : lines) d.warning(w);
}

std::string first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// ---- process: LSMs, capabilities, args[0] ----

// Is `profile` among the kernel's loaded profiles? nullopt when the list
// cannot be read (securityfs not mounted, not root).
std::optional<bool> apparmor_profile_loaded(const std::string& profile) {
  std::ifstream in("/sys/kernel/security/apparmor/profiles");
  if (!in) return std::nullopt;
  // One "NAME (MODE)" line per profile.
  for (std::string line; std::getline(in, line);) {
    if (line.substr(0, line.rfind(" (")) == profile) return true;
  }
  return false;
}

// A label needs its security module on, and one the kernel knows: an
// AppArmor profile loaded, an SELinux context valid in the loaded policy.
// create fails otherwise.
void check_lsm(const spec::Process& p, Diagnostics& d) {
  if (p.apparmor_profile && !p.apparmor_profile->empty()) {
    const std::string& name = *p.apparmor_profile;
    if (!linux_setup::apparmor_enabled()) {
      d.add(Severity::Error, "process.apparmorProfile",
            fmt::format("profile {:?}: AppArmor is disabled or not built in on this host", name));
    } else if (auto loaded = apparmor_profile_loaded(name);
               name != "unconfined" && loaded && !*loaded) {
      d.add(Severity::Error, "process.apparmorProfile",
            fmt::format("profile {:?} is not loaded in the kernel (apparmor_parser -r loads it)",
                        name));
    }
  }
  auto selinux = linux_setup::plan_selinux(p.selinux_label, "process.selinuxLabel");
  take(d, selinux ? Status() : Status(selinux.error()));
}

// Each name alone through create's own resolution, so that one unknown
// capability does not hide the next.
void check_capabilities(const spec::Process& p, Diagnostics& d) {
  if (!p.capabilities) return;
  auto limits = linux_setup::read_capability_limits();
  if (!limits) return d.error(limits.error());
  const auto known = linux_setup::known_capability_names();
  const std::vector<std::string_view> names(known.begin(), known.end());
  const spec::Capabilities& c = *p.capabilities;
  const std::pair<const char*, const std::vector<std::string>*> sets[] = {
      {"bounding", &c.bounding},
      {"permitted", &c.permitted},
      {"effective", &c.effective},
      {"inheritable", &c.inheritable},
      {"ambient", &c.ambient}};
  for (const auto& [set, list] : sets) {
    for (const auto& name : *list) {
      std::vector<std::string> w;
      auto r = linux_setup::resolve_capability(name, set, *limits, w);
      warnings(d, w);
      if (r) continue;
      auto [path, message] = spec::split_path_message(r.error().message());
      std::optional<std::string_view> guess;
      if (!linux_setup::capability_from_name(name)) guess = spec::near_miss(name, names);
      d.add(Severity::Error, path, message, guess ? std::string(*guess) : std::string());
    }
  }
}

// The program create's init would exec, looked up in the rootfs as the
// init will (RESOLVE_IN_ROOT: the rootfs's symlinks cannot lead out of it).
void check_program(const spec::Process& p, const std::string& rootfs, Diagnostics& d) {
  if (p.args.empty() || p.args[0].empty()) return;
  sys::UniqueFd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return;
  bool search = false;
  for (auto c : linux_setup::exec_candidates(p.args[0], p.env, &search)) {
    // A relative $PATH entry is taken from the process's cwd, as execvp does.
    if (c[0] != '/') c.insert(0, p.cwd + "/");
    auto fd = linux_setup::open_in_root(root.get(), c);
    struct stat st {};
    if (fd && ::fstat(fd->get(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0) {
      return;
    }
  }
  d.add(Severity::Error, "process.args[0]",
        fmt::format("{:?} {} in the rootfs {}", p.args[0],
                    search ? "is not an executable file in any $PATH directory"
                           : "is not an executable file",
                    rootfs));
}

void check_process(const spec::Config& cfg, const std::string& rootfs, Diagnostics& d) {
  if (!cfg.process) {
    // Valid (config.md: OPTIONAL), but rarely what someone checking a bundle
    // means: create accepts it, start and run refuse it.
    d.add(Severity::Warning, "process",
          "not set: the container can be created, but start and run refuse it (process is "
          "required when start is called)");
    return;
  }
  const spec::Process& p = *cfg.process;
  check_lsm(p, d);
  check_capabilities(p, d);
  linux_setup::ProcessOptions po;  // no seccomp cache dir: nothing is written
  po.seccomp = cfg.linux && cfg.linux->seccomp ? &*cfg.linux->seccomp : nullptr;
  auto plan = linux_setup::plan_process(p, po);
  if (plan) warnings(d, (*plan)->warnings);
  take(d, plan ? Status() : Status(plan.error()));
  if (!rootfs.empty()) check_program(p, rootfs, d);
}

// ---- linux: seccomp, user namespace ----

void check_syscalls(const spec::Config& cfg, Diagnostics& d) {
  if (!cfg.linux || !cfg.linux->seccomp) return;
  const auto& calls = cfg.linux->seccomp->syscalls;
  for (size_t i = 0; i < calls.size(); ++i) {
    for (size_t j = 0; j < calls[i].names.size(); ++j) {
      const std::string& name = calls[i].names[j];
      if (name.empty() || linux_setup::seccomp_knows_syscall(name)) continue;
      d.add(Severity::Warning, fmt::format("linux.seccomp.syscalls[{}].names[{}]", i, j),
            fmt::format("syscall {:?} is unknown to libseccomp on this architecture; the rule "
                        "skips it",
                        name));
    }
  }
}

// user_namespaces(7): without CAP_SETUID/CAP_SETGID in the parent namespace
// a process may map only its own ids, one line each.
void check_id_map_owner(const std::vector<spec::IdMapping>& maps, uint32_t own, const char* field,
                        Diagnostics& d) {
  for (size_t i = 0; i < maps.size(); ++i) {
    if (maps[i].host_id == own && maps[i].size == 1) continue;
    d.add(Severity::Error, fmt::format("linux.{}[{}]", field, i),
          fmt::format("maps host ids {}..{}, but an unprivileged caller (id {}) may map only its "
                      "own id",
                      maps[i].host_id, uint64_t{maps[i].host_id} + maps[i].size - 1, own));
  }
}

void check_user_namespace(const spec::Config& cfg, const linux_setup::NamespacePlan& ns,
                          Diagnostics& d) {
  if (!ns.new_user) return;
  if (first_line("/proc/sys/user/max_user_namespaces") == "0") {
    d.add(Severity::Error, "linux.namespaces",
          "this host allows no user namespaces (/proc/sys/user/max_user_namespaces is 0)");
  }
  if (::geteuid() == 0) return;
  check_id_map_owner(cfg.linux->uid_mappings, ::geteuid(), "uidMappings", d);
  check_id_map_owner(cfg.linux->gid_mappings, ::getegid(), "gidMappings", d);
}

// ---- mounts, cgroup ----

// Options husk does not know go to the filesystem as data; one a letter or
// two away from an option husk knows was most likely meant as that one.
void check_mount_options(const spec::Config& cfg, Diagnostics& d) {
  const auto known = spec::known_mount_options();
  for (size_t i = 0; i < cfg.mounts.size(); ++i) {
    const auto& opts = cfg.mounts[i].options;
    for (size_t j = 0; j < opts.size(); ++j) {
      if (opts[j].find('=') != std::string::npos || spec::is_known_mount_option(opts[j])) continue;
      auto guess = spec::near_miss(opts[j], known);
      if (!guess) continue;
      d.add(Severity::Warning, fmt::format("mounts[{}].options[{}]", i, j),
            fmt::format("unknown mount option {:?}, passed to the filesystem as data", opts[j]),
            std::string(*guess));
    }
  }
}

void check_cgroup(const Context& ctx, const spec::Config& cfg, Diagnostics& d) {
  auto co = cgroup_options(ctx, cfg, "check");
  if (!co) return take(d, co.error());
  auto mgr = cgroup::Manager::plan(*co, nullptr);
  if (!mgr) return take(d, mgr.error());
  const spec::Resources r = cgroup::container_resources(cfg.linux ? &*cfg.linux : nullptr);
  take(d, (*mgr)->check(r));
  auto missing = (*mgr)->missing_controllers(r);
  if (!missing) return take(d, missing.error());
  for (const auto& e : *missing) take(d, e);
}

// ---- the plan stage ----

void check_plans(const Context& ctx, const spec::Config& cfg, const std::string& bundle,
                 const std::string& rootfs, Diagnostics& d) {
  for (const auto& e : unsupported_features(cfg)) take(d, e);
  auto ns = linux_setup::plan_namespaces(cfg);
  take(d, ns ? Status() : Status(ns.error()));
  if (ns) {
    take(d, linux_setup::open_namespace_paths(*ns));
    check_user_namespace(cfg, *ns, d);
  }
  if (!rootfs.empty()) {
    linux_setup::RootfsOptions ro;
    ro.rootfs = rootfs;
    ro.bundle = bundle;
    ro.shared_mount_ns = ns && !ns->new_mount;
    ro.console = cfg.process && cfg.process->terminal;
    auto plan = linux_setup::plan_rootfs(cfg, ro);
    take(d, plan ? Status() : Status(plan.error()));
  }
  check_mount_options(cfg, d);
  check_process(cfg, rootfs, d);
  check_syscalls(cfg, d);
  check_cgroup(ctx, cfg, d);
}

}  // namespace

Result<spec::Diagnostics> check_bundle(const Context& ctx, const std::string& bundle) {
  auto text = TRY(read_bundle(bundle));
  Diagnostics d;
  spec::Config cfg = TRY_CTX(spec::parse_config_lenient(text.bytes, d), "{}/config.json", text.dir);
  Diagnostics valid;
  spec::validate_all(cfg, valid);
  for (const auto& f : valid.items()) {
    if (f.severity == Severity::Error && d.has_error_at_or_above(f.path)) continue;
    d.add(f.severity, f.path, f.message, f.suggestion);
  }
  std::string rootfs;
  if (cfg.root && !cfg.root->path.empty()) {
    auto r = resolve_rootfs(text.dir, *cfg.root);
    if (r) rootfs = std::move(*r);
    take(d, r ? Status() : Status(r.error()));
  }
  check_plans(ctx, cfg, text.dir, rootfs, d);
  return d;
}

}  // namespace husk::lifecycle
