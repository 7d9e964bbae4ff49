// The NOTIFY_SOCKET proxy (sd_notify(3) through the runtime, as runc does it
// for `podman --sdnotify=container` and systemd Type=notify units):
//   create/run, with NOTIFY_SOCKET in husk's environment: make
//     <root>/<id>/notify/, bind-mount it read-only at /run/notify in the
//     container and set NOTIFY_SOCKET=/run/notify/notify.sock for its process
//     (a directory mount: the socket itself only appears at start);
//   start (and run), with NOTIFY_SOCKET set: bind notify.sock before the
//     container's program runs, then wait until it sends READY=... (or its
//     init exits) and forward to the host's socket "READY=1\n",
//     "MAINPID=<pid>\n" and a BARRIER=1 (sd_notify_barrier(3)).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "base/result.hpp"
#include "spec/config.hpp"
#include "state/store.hpp"
#include "sys/fd.hpp"

namespace husk::lifecycle {

inline constexpr const char* kNotifyDir = "notify";  // in the container's state directory
inline constexpr const char* kNotifySocketName = "notify.sock";
inline constexpr const char* kNotifyDirInContainer = "/run/notify";

// $NOTIFY_SOCKET, or nullopt when unset or empty.
std::optional<std::string> host_notify_socket();

// Add the mount and the environment variable to the config (create).
void add_notify_mount(spec::Config& cfg, const std::string& state_dir);
// mkdir <state dir>/notify (create, before the init mounts it).
Status make_notify_dir(const state::ContainerDir& dir);

class NotifyProxy {
 public:
  // Bind <state dir>/notify/notify.sock when the host asked for
  // notifications (NOTIFY_SOCKET set) and create prepared the directory;
  // nullopt otherwise.
  static Result<std::optional<NotifyProxy>> open(const state::ContainerDir& dir);

  // Block until the container sends READY=..., then forward it with
  // MAINPID=mainpid to the host's socket. Returns without forwarding if the
  // process behind init_pidfd exits first.
  Status wait_ready(int init_pidfd, pid_t mainpid);

 private:
  NotifyProxy(sys::UniqueFd sock, std::string host)
      : sock_(std::move(sock)), host_(std::move(host)) {}
  sys::UniqueFd sock_;
  std::string host_;
};

}  // namespace husk::lifecycle
