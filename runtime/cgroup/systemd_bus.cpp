#include "cgroup/systemd_bus.hpp"

#include <dlfcn.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include "linux/rootless.hpp"

namespace husk::cgroup {

namespace {

constexpr const char* kDest = "org.freedesktop.systemd1";
constexpr const char* kPath = "/org/freedesktop/systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";
// How long a job may take: systemd answers a scope's start in milliseconds,
// a stop waits for the unit's processes (the container is dead by then).
constexpr auto kJobTimeout = std::chrono::seconds(60);

// The entry points husk uses, resolved once from libsystemd.so.0.
struct Lib {
  decltype(&sd_bus_new) bus_new = nullptr;
  decltype(&sd_bus_set_address) set_address = nullptr;
  decltype(&sd_bus_start) start = nullptr;
  decltype(&sd_bus_open_system) open_system = nullptr;
  decltype(&sd_bus_open_user) open_user = nullptr;
  decltype(&sd_bus_flush_close_unref) close_unref = nullptr;
  decltype(&sd_bus_message_new_method_call) new_call = nullptr;
  decltype(&sd_bus_message_append) append = nullptr;
  decltype(&sd_bus_message_append_array) append_array = nullptr;
  decltype(&sd_bus_message_open_container) open = nullptr;
  decltype(&sd_bus_message_close_container) close = nullptr;
  decltype(&sd_bus_message_unref) msg_unref = nullptr;
  decltype(&sd_bus_message_read) read = nullptr;
  decltype(&sd_bus_call) call = nullptr;
  decltype(&sd_bus_process) process = nullptr;
  decltype(&sd_bus_wait) wait = nullptr;
  decltype(&sd_bus_match_signal) match_signal = nullptr;
  decltype(&sd_bus_slot_unref) slot_unref = nullptr;
  decltype(&sd_bus_error_free) error_free = nullptr;
  decltype(&sd_bus_error_has_name) error_has_name = nullptr;
  decltype(&sd_bus_get_property_string) get_string = nullptr;
};

template <typename F>
bool resolve(void* h, const char* name, F& out) {
  out = reinterpret_cast<F>(::dlsym(h, name));  // NOLINT(*-reinterpret-cast)
  return out != nullptr;
}

Result<const Lib*> load_lib() {
  static Lib lib;
  static bool loaded = false;
  if (loaded) return &lib;
  void* h = ::dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) {
    return Error::make(ErrorKind::Unsupported, "--systemd-cgroup: load libsystemd.so.0: {}",
                       ::dlerror());
  }
  bool ok =
      resolve(h, "sd_bus_new", lib.bus_new) && resolve(h, "sd_bus_set_address", lib.set_address) &&
      resolve(h, "sd_bus_start", lib.start) && resolve(h, "sd_bus_open_system", lib.open_system) &&
      resolve(h, "sd_bus_open_user", lib.open_user) &&
      resolve(h, "sd_bus_flush_close_unref", lib.close_unref) &&
      resolve(h, "sd_bus_message_new_method_call", lib.new_call) &&
      resolve(h, "sd_bus_message_append", lib.append) &&
      resolve(h, "sd_bus_message_append_array", lib.append_array) &&
      resolve(h, "sd_bus_message_open_container", lib.open) &&
      resolve(h, "sd_bus_message_close_container", lib.close) &&
      resolve(h, "sd_bus_message_unref", lib.msg_unref) &&
      resolve(h, "sd_bus_message_read", lib.read) && resolve(h, "sd_bus_call", lib.call) &&
      resolve(h, "sd_bus_process", lib.process) && resolve(h, "sd_bus_wait", lib.wait) &&
      resolve(h, "sd_bus_match_signal", lib.match_signal) &&
      resolve(h, "sd_bus_slot_unref", lib.slot_unref) &&
      resolve(h, "sd_bus_error_free", lib.error_free) &&
      resolve(h, "sd_bus_error_has_name", lib.error_has_name) &&
      resolve(h, "sd_bus_get_property_string", lib.get_string);
  if (!ok) return Error::make(ErrorKind::Unsupported, "libsystemd.so.0: {}", ::dlerror());
  loaded = true;
  return &lib;
}

// A sd-bus return value as an Error: negative errno.
Status check(int r, std::string_view what) {
  if (r >= 0) return {};
  return Error::sys(-r, "{}", what);
}

// JobRemoved signals seen so far: (job object path, result).
struct JobLog {
  std::vector<std::pair<std::string, std::string>> removed;
  const Lib* lib = nullptr;
};

int on_job_removed(sd_bus_message* m, void* userdata, sd_bus_error* /*err*/) {
  auto* log = static_cast<JobLog*>(userdata);
  uint32_t id = 0;
  const char* job = nullptr;
  const char* unit = nullptr;
  const char* result = nullptr;
  if (log->lib->read(m, "uoss", &id, &job, &unit, &result) >= 0) {
    log->removed.emplace_back(job, result);
  }
  return 0;
}

}  // namespace

bool systemd_running() {
  struct stat st {};
  return ::lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

struct SystemdBus::Impl {
  const Lib* lib = nullptr;
  sd_bus* bus = nullptr;
  sd_bus_slot* slot = nullptr;
  JobLog jobs;

  ~Impl() {
    if (slot != nullptr) lib->slot_unref(slot);
    if (bus != nullptr) lib->close_unref(bus);
  }
  Status open(bool user);
  Status append_property(sd_bus_message* m, const UnitProperty& p) const;
  Status append_properties(sd_bus_message* m, const std::vector<UnitProperty>& props) const;
  Result<std::string> call(sd_bus_message* m, const std::string& unit, const char* what) const;
  Status wait_job(const std::string& job, const std::string& unit, const char* what);
  Result<sd_bus_message*> method(const char* member) const;
};

// systemd's own socket: the system manager's for root; for a user, its
// manager's in /run/user/UID, where that manager (user@UID.service) always
// puts it and `systemctl --user` looks first, whatever XDG_RUNTIME_DIR the
// caller has (podman and tests point it elsewhere), and the uid the host
// knows the caller by (inside podman's user namespace husk is uid 0). Empty
// when there is none.
std::string private_socket(bool user) {
  std::string path = user ? fmt::format("/run/user/{}/systemd/private", linux_setup::host_euid())
                          : std::string(::geteuid() == 0 ? "/run/systemd/private" : "");
  if (path.empty() || ::access(path.c_str(), F_OK) != 0) return {};
  return path;
}

Status SystemdBus::Impl::open(bool user) {
  int r = 0;
  std::string priv = private_socket(user);
  if (!priv.empty()) {
    // No bus daemon in between (none is needed: a user may have no bus),
    // and systemd sends its signals to every peer on it.
    r = lib->bus_new(&bus);
    if (r >= 0) r = lib->set_address(bus, ("unix:path=" + priv).c_str());
    if (r >= 0) r = lib->start(bus);
  } else if (user) {
    r = lib->open_user(&bus);
  } else {
    r = lib->open_system(&bus);
  }
  TRY(check(r, user ? "connect to the user's systemd" : "connect to systemd"));
  // Before any job exists, so that no JobRemoved can be missed.
  r = lib->match_signal(bus, &slot, nullptr, kPath, kManager, "JobRemoved", on_job_removed, &jobs);
  TRY(check(r, "subscribe to systemd's JobRemoved"));
  if (priv.empty()) {
    sd_bus_error err = SD_BUS_ERROR_NULL;
    sd_bus_message* reply = nullptr;
    sd_bus_message* m = TRY(method("Subscribe"));
    r = lib->call(bus, m, 0, &err, &reply);
    lib->msg_unref(m);
    lib->msg_unref(reply);
    lib->error_free(&err);
    TRY(check(r, "systemd Subscribe"));
  }
  return {};
}

Result<sd_bus_message*> SystemdBus::Impl::method(const char* member) const {
  sd_bus_message* m = nullptr;
  TRY(check(lib->new_call(bus, &m, kDest, kPath, kManager, member), member));
  return m;
}

Status SystemdBus::Impl::append_property(sd_bus_message* m, const UnitProperty& p) const {
  int r = lib->open(m, 'r', "sv");
  if (r >= 0) r = lib->append(m, "s", p.name.c_str());
  if (r < 0) return check(r, p.name);
  const auto& v = p.value;
  if (const auto* b = std::get_if<bool>(&v)) {
    r = lib->append(m, "v", "b", static_cast<int>(*b));
  } else if (const auto* t = std::get_if<uint64_t>(&v)) {
    r = lib->append(m, "v", "t", *t);
  } else if (const auto* s = std::get_if<std::string>(&v)) {
    r = lib->append(m, "v", "s", s->c_str());
  } else if (const auto* ay = std::get_if<std::vector<uint8_t>>(&v)) {
    r = lib->open(m, 'v', "ay");
    if (r >= 0) r = lib->append_array(m, 'y', ay->data(), ay->size());
    if (r >= 0) r = lib->close(m);
  } else if (const auto* au = std::get_if<std::vector<uint32_t>>(&v)) {
    r = lib->open(m, 'v', "au");
    if (r >= 0) r = lib->append_array(m, 'u', au->data(), au->size() * sizeof(uint32_t));
    if (r >= 0) r = lib->close(m);
  } else if (const auto* ss = std::get_if<std::vector<std::pair<std::string, std::string>>>(&v)) {
    r = lib->open(m, 'v', "a(ss)");
    if (r >= 0) r = lib->open(m, 'a', "(ss)");
    for (size_t i = 0; r >= 0 && i < ss->size(); ++i) {
      r = lib->append(m, "(ss)", (*ss)[i].first.c_str(), (*ss)[i].second.c_str());
    }
    if (r >= 0) r = lib->close(m);
    if (r >= 0) r = lib->close(m);
  } else if (const auto* st = std::get_if<std::vector<std::pair<std::string, uint64_t>>>(&v)) {
    r = lib->open(m, 'v', "a(st)");
    if (r >= 0) r = lib->open(m, 'a', "(st)");
    for (size_t i = 0; r >= 0 && i < st->size(); ++i) {
      r = lib->append(m, "(st)", (*st)[i].first.c_str(), (*st)[i].second);
    }
    if (r >= 0) r = lib->close(m);
    if (r >= 0) r = lib->close(m);
  }
  if (r >= 0) r = lib->close(m);
  return check(r, fmt::format("unit property {}", p.name));
}

Status SystemdBus::Impl::append_properties(sd_bus_message* m,
                                           const std::vector<UnitProperty>& props) const {
  TRY(check(lib->open(m, 'a', "(sv)"), "unit properties"));
  for (const auto& p : props) TRY(append_property(m, p));
  return check(lib->close(m), "unit properties");
}

// Send `m` (consumed) and return the job object path its reply holds.
Result<std::string> SystemdBus::Impl::call(sd_bus_message* m, const std::string& unit,
                                           const char* what) const {
  sd_bus_error err = SD_BUS_ERROR_NULL;
  sd_bus_message* reply = nullptr;
  int r = lib->call(bus, m, 0, &err, &reply);
  lib->msg_unref(m);
  std::string job;
  if (r < 0) {
    Error e = err.message != nullptr ? Error::sys(-r, "{} unit {}: {}", what, unit, err.message)
                                     : Error::sys(-r, "{} unit {}", what, unit);
    if (lib->error_has_name(&err, "org.freedesktop.systemd1.NoSuchUnit") > 0) {
      e = Error::make(ErrorKind::NotFound, "{} unit {}: {}", what, unit, err.message);
    } else if (lib->error_has_name(&err, "org.freedesktop.systemd1.UnitExists") > 0) {
      e = Error::make(ErrorKind::AlreadyExists, "{} unit {}: {}", what, unit, err.message);
    }
    lib->error_free(&err);
    return e;
  }
  const char* path = nullptr;
  if (lib->read(reply, "o", &path) >= 0 && path != nullptr) job = path;
  lib->msg_unref(reply);
  lib->error_free(&err);
  return job;
}

Status SystemdBus::Impl::wait_job(const std::string& job, const std::string& unit,
                                  const char* what) {
  auto deadline = std::chrono::steady_clock::now() + kJobTimeout;
  for (;;) {
    for (const auto& [path, result] : jobs.removed) {
      if (path != job) continue;
      if (result == "done") return {};
      return Error::make(ErrorKind::Sys, "{} unit {}: systemd job {} ended with result \"{}\"",
                         what, unit, job, result);
    }
    int r = lib->process(bus, nullptr);
    TRY(check(r, "read from systemd"));
    if (r > 0) continue;
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) {
      return Error::make(ErrorKind::Sys, "{} unit {}: timed out waiting for systemd job {}", what,
                         unit, job);
    }
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(left).count();
    TRY(check(lib->wait(bus, static_cast<uint64_t>(us)), "wait for systemd"));
  }
}

SystemdBus::SystemdBus(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SystemdBus::~SystemdBus() = default;

Result<std::unique_ptr<SystemdBus>> SystemdBus::connect(bool user) {
  auto impl = std::make_unique<Impl>();
  impl->lib = TRY(load_lib());
  impl->jobs.lib = impl->lib;
  TRY(impl->open(user));
  return std::unique_ptr<SystemdBus>(new SystemdBus(std::move(impl)));
}

Status SystemdBus::start_unit(const std::string& unit, const std::vector<UnitProperty>& props) {
  sd_bus_message* m = TRY(impl_->method("StartTransientUnit"));
  int r = impl_->lib->append(m, "ss", unit.c_str(), "fail");
  auto st = check(r, "StartTransientUnit");
  if (st) st = impl_->append_properties(m, props);
  // No auxiliary units.
  if (st) st = check(impl_->lib->append(m, "a(sa(sv))", 0), "StartTransientUnit");
  if (!st) {
    impl_->lib->msg_unref(m);
    return st;
  }
  auto job = TRY(impl_->call(m, unit, "start"));
  return impl_->wait_job(job, unit, "start");
}

Result<std::string> SystemdBus::control_group() {
  sd_bus_error err = SD_BUS_ERROR_NULL;
  char* value = nullptr;
  int r = impl_->lib->get_string(impl_->bus, kDest, kPath, kManager, "ControlGroup", &err, &value);
  std::string out = value != nullptr ? value : "";
  ::free(value);  // NOLINT(*-no-malloc): sd-bus hands over a malloc'd string
  std::string why = err.message != nullptr ? err.message : "";
  impl_->lib->error_free(&err);
  if (r < 0) return Error::sys(-r, "read systemd's ControlGroup{}{}", why.empty() ? "" : ": ", why);
  return out;
}

Status SystemdBus::set_properties(const std::string& unit, const std::vector<UnitProperty>& props) {
  if (props.empty()) return {};
  sd_bus_message* m = TRY(impl_->method("SetUnitProperties"));
  auto st = check(impl_->lib->append(m, "sb", unit.c_str(), 1), "SetUnitProperties");
  if (st) st = impl_->append_properties(m, props);
  if (!st) {
    impl_->lib->msg_unref(m);
    return st;
  }
  TRY(impl_->call(m, unit, "set properties of"));
  return {};
}

Status SystemdBus::stop_unit(const std::string& unit) {
  sd_bus_message* m = TRY(impl_->method("StopUnit"));
  if (auto st = check(impl_->lib->append(m, "ss", unit.c_str(), "replace"), "StopUnit"); !st) {
    impl_->lib->msg_unref(m);
    return st;
  }
  auto job = impl_->call(m, unit, "stop");
  if (!job && job.error().kind() == ErrorKind::NotFound) return {};
  if (!job) return std::move(job).error();
  TRY(impl_->wait_job(*job, unit, "stop"));
  // A unit whose processes failed stays loaded as "failed" until reset.
  sd_bus_message* reset = TRY(impl_->method("ResetFailedUnit"));
  if (impl_->lib->append(reset, "s", unit.c_str()) >= 0) {
    (void)impl_->call(reset, unit, "reset");
  } else {
    impl_->lib->msg_unref(reset);
  }
  return {};
}

}  // namespace husk::cgroup
