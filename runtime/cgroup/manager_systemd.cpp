// --systemd-cgroup: systemd owns the container's cgroup as a transient unit
// (a scope, or a pod's slice), made and changed over D-Bus; the cgroupfs
// driver of the host's hierarchy then works inside it (Delegate=yes) for
// what systemd has no property for, and for freezing, stats and signals.
//
// The limits are set twice, as unit properties and in the files: systemd
// rewrites a unit's cgroup files from its properties on daemon-reload and
// when it re-realizes the unit, so a limit only in a file would be undone.
#include "cgroup/fs.hpp"
#include "cgroup/manager_impl.hpp"
#include "cgroup/systemd_bus.hpp"
#include "cgroup/systemd_unit.hpp"

namespace husk::cgroup {

namespace {

class SystemdManager final : public Manager {
 public:
  SystemdManager(std::unique_ptr<FsManager> inner, UnitPlacement p, std::string id, bool user,
                 bool started, std::unique_ptr<SystemdBus> bus = nullptr)
      : inner_(std::move(inner)),
        place_(std::move(p)),
        id_(std::move(id)),
        user_(user),
        started_(started),
        bus_(std::move(bus)) {}

  [[nodiscard]] Driver driver() const override { return inner_->driver(); }
  [[nodiscard]] std::string serialize() const override { return inner_->serialize(); }
  [[nodiscard]] Status check(const spec::Resources& r) const override {
    TRY(inner_->check(r));
    TRY(resource_properties(r, host()));
    return {};
  }
  [[nodiscard]] Result<std::vector<Error>> missing_controllers(
      const spec::Resources& r) const override {
    return inner_->missing_controllers(r);
  }
  // systemd makes the cgroup when the unit starts, and a scope cannot start
  // without a process: the unit is started by add_pid() with the init.
  Status create() override { return {}; }
  Status apply(const spec::Resources& r) override;
  Status add_pid(pid_t pid) override;
  Status freeze() override { return inner_->freeze(); }
  Status thaw() override { return inner_->thaw(); }
  [[nodiscard]] Result<bool> frozen() const override { return inner_->frozen(); }
  [[nodiscard]] Result<std::vector<pid_t>> pids() const override { return inner_->pids(); }
  [[nodiscard]] Result<Stats> stats() const override { return inner_->stats(); }
  [[nodiscard]] Result<std::unique_ptr<OomWatch>> watch_oom() const override {
    return inner_->watch_oom();
  }
  // Before the unit starts, the directory (if any) is some other unit's.
  Status kill_all(int sig) override { return started_ ? inner_->kill_all(sig) : Status(); }
  Status destroy() override;
  [[nodiscard]] std::vector<std::string> leaf_dirs() const override { return inner_->leaf_dirs(); }
  // systemd owns every directory above the unit's.
  [[nodiscard]] std::vector<std::string> created_parents() const override { return {}; }
  [[nodiscard]] std::vector<std::string> removed_parents() const override { return {}; }
  [[nodiscard]] std::string path(const std::string& controller) const override {
    return inner_->path(controller);
  }

 private:
  [[nodiscard]] PropertyHost host() const;
  Result<SystemdBus*> bus();
  Status start(pid_t pid);

  std::unique_ptr<FsManager> inner_;
  UnitPlacement place_;
  std::string id_;
  bool user_ = false;
  bool started_ = false;  // the unit exists (this call made it, or a loaded record)
  std::optional<spec::Resources> pending_;
  std::unique_ptr<SystemdBus> bus_;
};

PropertyHost SystemdManager::host() const {
  PropertyHost h;
  h.v2 = inner_->driver() == Driver::V2;
  if (auto fd = fs::open_dir("/proc"); fd) {
    if (auto text = fs::read_at(fd->get(), "devices"); text) parse_proc_devices(*text, h);
  }
  return h;
}

Result<SystemdBus*> SystemdManager::bus() {
  if (!bus_) bus_ = TRY(SystemdBus::connect(user_));
  return bus_.get();
}

Status SystemdManager::start(pid_t pid) {
  auto h = host();
  auto props = unit_properties(place_, id_, pid, h);
  if (pending_) {
    auto res = TRY(resource_properties(*pending_, h));
    props.insert(props.end(), res.begin(), res.end());
  }
  SystemdBus* b = TRY(bus());
  auto st = b->start_unit(place_.unit, props);
  // A unit that exists already is not this container's: left alone.
  // Otherwise the unit may exist (a failed job): destroy() removes it.
  if (!st && st.error().kind() == ErrorKind::AlreadyExists) return st;
  started_ = true;
  if (!st) return st;
  // Hierarchies systemd does not manage (v1: cpuset, net_cls, ...; a
  // slice's processes) are joined as under cgroupfs.
  if (inner_->driver() == Driver::V1) TRY(inner_->create());
  if (inner_->driver() == Driver::V1 || place_.is_slice()) TRY(inner_->add_pid(pid));
  if (pending_) TRY(inner_->apply(*pending_));
  pending_.reset();
  return {};
}

Status SystemdManager::apply(const spec::Resources& r) {
  if (!started_) {
    pending_ = r;
    return {};
  }
  auto props = TRY(resource_properties(r, host()));
  SystemdBus* b = TRY(bus());
  TRY(b->set_properties(place_.unit, props));
  return inner_->apply(r);
}

Status SystemdManager::add_pid(pid_t pid) {
  if (!started_) return start(pid);
  return inner_->add_pid(pid);
}

Status SystemdManager::destroy() {
  if (!started_) return {};
  SystemdBus* b = TRY(bus());
  TRY_CTX(b->stop_unit(place_.unit), "destroy cgroup {}", place_.path);
  started_ = false;
  // What this driver made itself (v1 hierarchies systemd does not manage).
  return inner_->destroy();
}

}  // namespace

Result<std::unique_ptr<Manager>> plan_systemd(const Options& opts,
                                              const spec::Resources* resources) {
  if (!systemd_running()) {
    return Error::make(ErrorKind::Unsupported,
                       "systemd not running on this host, cannot use systemd cgroups manager");
  }
  auto place = TRY(place_unit(opts.cgroups_path, opts.id, opts.rootless));
  std::unique_ptr<SystemdBus> bus;
  if (opts.rootless) {
    // A rootless caller's units are its own systemd's (systemd --user, on
    // the user's bus), whose slices sit below that manager's cgroup
    // (user@UID.service, which the system manager delegates to it).
    bus = TRY_CTX(SystemdBus::connect(true),
                  "--systemd-cgroup: a rootless container's cgroup comes from the user's "
                  "systemd instance");
    place.path = TRY(bus->control_group()) + place.path;
  }
  Options fs_opts = opts;
  fs_opts.systemd = false;
  fs_opts.cgroups_path = place.path;
  auto layout = TRY(discover(fs_opts));
  layout.systemd_unit = place.unit;
  // Device programs (v2) and devices.* (v1) need CAP_SYS_ADMIN: rootless.cpp's rules.
  layout.rootless = opts.rootless;
  auto m = std::make_unique<SystemdManager>(make_fs_manager(std::move(layout)), std::move(place),
                                            opts.id, opts.rootless, false, std::move(bus));
  if (resources != nullptr) TRY(m->check(*resources));
  return std::unique_ptr<Manager>(std::move(m));
}

std::unique_ptr<Manager> load_systemd(Layout l) {
  UnitPlacement place;
  place.unit = l.systemd_unit;
  place.path = l.path;
  // The driver a rootless caller planned with: its user's systemd (euid 0
  // inside podman's rootless user namespace is still that user).
  bool user = l.rootless;
  return std::make_unique<SystemdManager>(make_fs_manager(std::move(l)), std::move(place), "", user,
                                          true);
}

}  // namespace husk::cgroup
