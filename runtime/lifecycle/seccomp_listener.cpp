#include "lifecycle/seccomp_listener.hpp"

#include <sys/socket.h>

#include <algorithm>

#include "spec/names.hpp"
#include "spec/state_json.hpp"
#include "sys/unix_socket.hpp"

namespace husk::lifecycle {

bool seccomp_notifies(const spec::Config& cfg) {
  if (!cfg.linux || !cfg.linux->seccomp) return false;
  return std::ranges::any_of(cfg.linux->seccomp->syscalls, [](const spec::SeccompSyscall& s) {
    return spec::seccomp_action_from_name(s.action) == spec::SeccompAction::Notify;
  });
}

Status send_to_seccomp_listener(const spec::Seccomp& sc, const state::ContainerState& st,
                                std::string_view status, pid_t pid, int notify_fd) {
  // validate() made sure a notifying filter has a listenerPath.
  const std::string& path = sc.listener_path.value_or(std::string());
  std::string json = spec::container_process_state_json(st, status, pid, sc.listener_metadata);
  auto sock = sys::connect_unix(path, SOCK_STREAM);
  if (!sock) return std::move(sock).error().wrap("linux.seccomp.listenerPath");
  // One sendmsg: the whole state with the fd, which the spec allows only in
  // the first of several.
  TRY_CTX(sys::send_fd(sock->get(), json, notify_fd), "linux.seccomp.listenerPath {}", path);
  return {};
}

}  // namespace husk::lifecycle
