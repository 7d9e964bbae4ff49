// Cgroups for a rootless caller (Options::rootless): the one place that
// decides between the caller's own cgroups and none at all.
//
// A caller without privilege over the cgroup tree can still use a part of
// it that was delegated to it (chowned to it, e.g. the user's systemd
// instance subtree on a v2 host, or a directory an admin made for it): when
// every hierarchy lets it make (or enter) the container's cgroup, the
// ordinary cgroupfs driver runs there. Otherwise the container runs in the
// cgroups its caller is in, which is what runc does for a rootless
// container without a cgroupsPath it may write. That is only honest while
// the config asks for nothing a cgroup would enforce: any limit is then an
// error naming its field, never silently dropped.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "cgroup/manager_impl.hpp"

namespace husk::cgroup {

namespace {

Error refuse(std::string_view field, std::string_view why) {
  return Error::make(ErrorKind::Unsupported, "{}: cannot be applied by a rootless container ({})",
                     field, why);
}

// A container in no cgroup of its own. The record it leaves is empty (no
// cgroup), which every verb already treats as "nothing to act on" (kill
// --all signals the init only, pause/update/events --stats are refused).
class NoCgroupManager final : public Manager {
 public:
  explicit NoCgroupManager(std::string why) : why_(std::move(why)) {}
  [[nodiscard]] Driver driver() const override { return Driver::None; }
  [[nodiscard]] std::string serialize() const override { return {}; }
  [[nodiscard]] Status check(const spec::Resources& r) const override {
    return require_no_limits(r, why_);
  }
  // Without a cgroup no controller is wanted: any limit is already check()'s
  // error, which names the field.
  [[nodiscard]] Result<std::vector<Error>> missing_controllers(
      const spec::Resources& r) const override {
    std::vector<Error> out;
    if (auto st = check(r); !st) out.push_back(std::move(st).error());
    return out;
  }
  Status create() override { return {}; }
  Status apply(const spec::Resources& r) override { return check(r); }
  Status add_pid(pid_t /*pid*/) override { return {}; }
  Status freeze() override { return unsupported(); }
  Status thaw() override { return unsupported(); }
  [[nodiscard]] Result<bool> frozen() const override { return false; }
  [[nodiscard]] Result<std::vector<pid_t>> pids() const override { return std::vector<pid_t>(); }
  [[nodiscard]] Result<Stats> stats() const override { return unsupported(); }
  [[nodiscard]] Result<std::unique_ptr<OomWatch>> watch_oom() const override {
    return unsupported();
  }
  Status kill_all(int /*sig*/) override { return {}; }
  Status destroy() override { return {}; }
  [[nodiscard]] std::vector<std::string> leaf_dirs() const override { return {}; }
  [[nodiscard]] std::vector<std::string> created_parents() const override { return {}; }
  [[nodiscard]] std::vector<std::string> removed_parents() const override { return {}; }
  [[nodiscard]] std::string path(const std::string& /*controller*/) const override { return {}; }

 private:
  [[nodiscard]] Error unsupported() const {
    return Error::make(ErrorKind::Unsupported, "rootless container without a cgroup ({})", why_);
  }
  std::string why_;
};

// The container's cgroup in hierarchy h is usable when the caller may
// write its cgroup.procs if it exists (to enter it), or else the deepest
// directory on the way to it that exists (to mkdir the rest). The kernel's
// own checks on a move (cgroup_procs_write_permission: write access to
// cgroup.procs of the common ancestor too, on v2) are left to add_pid.
// Returns the directory that refused, empty when usable.
std::string refused_dir(const Layout& l, const Hierarchy& h) {
  std::string dir = l.dir(h);
  std::string procs = dir + "/cgroup.procs";
  if (::faccessat(AT_FDCWD, procs.c_str(), F_OK, AT_EACCESS) == 0) {
    return ::faccessat(AT_FDCWD, procs.c_str(), W_OK, AT_EACCESS) == 0 ? std::string() : procs;
  }
  while (dir.size() > h.mount.size() && ::faccessat(AT_FDCWD, dir.c_str(), F_OK, 0) != 0) {
    dir.resize(dir.rfind('/'));
  }
  return ::faccessat(AT_FDCWD, dir.c_str(), W_OK, AT_EACCESS) == 0 ? std::string() : dir;
}

// Device rules: in a user namespace mknod(2) of a device is refused (EPERM)
// and nodes are binds of the host's, which its permission bits govern; so
// "deny everything" and allow rules take nothing away that a device cgroup
// would have enforced. A deny of particular devices would.
Status require_harmless_devices(const spec::Resources& r, std::string_view why) {
  auto rules = TRY(normalize_device_rules(r.devices));
  for (size_t i = 0; i < rules.size(); ++i) {
    const auto& d = rules[i];
    if (!d.allow && !(d.type == 'a' && d.major == -1 && d.minor == -1)) {
      return refuse(fmt::format("linux.resources.devices[{}]", i), why);
    }
  }
  return {};
}

}  // namespace

Status require_no_limits(const spec::Resources& r, std::string_view why) {
  if (!r.unified.empty()) {
    return refuse(fmt::format("linux.resources.unified[\"{}\"]", r.unified.begin()->first), why);
  }
  spec::Resources rest = r;
  rest.devices.clear();
  auto needs = TRY(needs_v1(rest));
  if (!needs.empty()) return refuse(needs.front().field, why);
  return require_harmless_devices(r, why);
}

Result<std::vector<DeviceRule>> device_rules(const Layout& l, const spec::Resources& r) {
  if (!l.rootless) return normalize_device_rules(r.devices);
  TRY(require_harmless_devices(r, "device rules need CAP_SYS_ADMIN"));
  return std::vector<DeviceRule>();
}

Result<std::unique_ptr<Manager>> plan_rootless(Layout l, const spec::Resources* resources) {
  std::string refused;
  for (const auto& h : l.hierarchies) {
    refused = refused_dir(l, h);
    if (!refused.empty()) break;
  }
  if (refused.empty()) {
    l.rootless = true;
    auto m = make_fs_manager(std::move(l));
    if (resources != nullptr) TRY(m->check(*resources));
    return std::unique_ptr<Manager>(std::move(m));
  }
  auto m = std::make_unique<NoCgroupManager>(
      fmt::format("no cgroup it may write: {} is not writable", refused));
  if (resources != nullptr) TRY(m->check(*resources));
  return std::unique_ptr<Manager>(std::move(m));
}

}  // namespace husk::cgroup
