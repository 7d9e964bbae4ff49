// systemd's D-Bus API (org.freedesktop.systemd1.Manager) through libsystemd's
// sd-bus. husk is one static binary without a dynamic loader of its own, and
// Debian ships libsystemd only as a shared library: it is loaded with
// dlopen(3) when the systemd driver first needs it, so every other husk call
// costs nothing more. Only husk's parent process talks to systemd (never the
// container's init), and sd-bus starts no threads.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "cgroup/systemd_unit.hpp"

namespace husk::cgroup {

// Whether systemd is this host's init (its runtime directory exists, the
// test sd_booted(3) and runc make).
bool systemd_running();

class SystemdBus {
 public:
  // root: systemd's private socket (/run/systemd/private), else the system
  // bus; a rootless caller: the user's bus (its own systemd).
  static Result<std::unique_ptr<SystemdBus>> connect(bool user);
  ~SystemdBus();
  SystemdBus(const SystemdBus&) = delete;
  SystemdBus& operator=(const SystemdBus&) = delete;

  // StartTransientUnit(unit, "fail", props) and wait for its job. A unit
  // that exists already, or a job whose result is not "done", is an error
  // naming the unit.
  Status start_unit(const std::string& unit, const std::vector<UnitProperty>& props);
  // The manager's own cgroup (its ControlGroup property): "" for the system
  // manager, "/user.slice/user-1000.slice/user@1000.service" for a user's.
  // A user manager's slices and units are below it.
  Result<std::string> control_group();
  // SetUnitProperties(unit, runtime, props): kept until the unit stops,
  // across daemon-reload.
  Status set_properties(const std::string& unit, const std::vector<UnitProperty>& props);
  // StopUnit(unit, "replace") and wait for its job; a unit that is not
  // loaded (gone already) is success. Then ResetFailedUnit, so that a
  // failed unit does not stay listed.
  Status stop_unit(const std::string& unit);

  struct Impl;

 private:
  explicit SystemdBus(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace husk::cgroup
