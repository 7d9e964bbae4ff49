#include "lifecycle/notify.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "sys/unix_socket.hpp"

namespace husk::lifecycle {

namespace {

// How long to wait for the host to acknowledge the BARRIER (runc: 30 s).
constexpr int kBarrierTimeoutMs = 30000;

std::string container_socket_path() {
  return std::string(kNotifyDirInContainer) + "/" + kNotifySocketName;
}

// sockaddr for a path; a leading '@' names the abstract namespace (systemd's
// convention for NOTIFY_SOCKET).
Result<std::pair<sockaddr_un, socklen_t>> unix_addr(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof a.sun_path) {
    return Error::arg("NOTIFY_SOCKET: path must be 1..{} bytes: \"{}\"", sizeof a.sun_path - 1,
                      path);
  }
  std::memcpy(a.sun_path, path.data(), path.size());
  socklen_t len = sizeof a;
  if (path[0] == '@') {
    a.sun_path[0] = '\0';
    len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  }
  return std::make_pair(a, len);
}

Status send_to_host(int sock, std::string_view msg) {
  while (::send(sock, msg.data(), msg.size(), MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) return Error::last("send to NOTIFY_SOCKET");
  }
  return {};
}

// sd_notify_barrier(3): send BARRIER=1 with the write end of a pipe; the
// host closes it once it processed everything before it. A host that does not
// speak the barrier protocol still drops the fd when it reads the message.
Status barrier(int sock) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return Error::last("pipe2");
  sys::UniqueFd r(p[0]), w(p[1]);
  TRY_CTX(sys::send_fd(sock, "BARRIER=1", w.get()), "NOTIFY_SOCKET barrier");
  w.reset();
  pollfd pfd{r.get(), POLLIN, 0};
  int n = 0;
  while ((n = ::poll(&pfd, 1, kBarrierTimeoutMs)) < 0 && errno == EINTR) {
  }
  if (n < 0) return Error::last("poll NOTIFY_SOCKET barrier");
  // A timeout is not an error: the host may just not read it (runc warns).
  return {};
}

// The first line of the datagram starting with READY=, if any.
std::optional<std::string> ready_line(std::string_view msg) {
  while (!msg.empty()) {
    size_t nl = msg.find('\n');
    std::string_view line = msg.substr(0, nl);
    msg.remove_prefix(nl == std::string_view::npos ? msg.size() : nl + 1);
    if (line.substr(0, 6) == "READY=") return std::string(line);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> host_notify_socket() {
  const char* v = std::getenv("NOTIFY_SOCKET");
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

void add_notify_mount(spec::Config& cfg, const std::string& state_dir) {
  spec::Mount m;
  m.destination = kNotifyDirInContainer;
  m.source = state_dir + "/" + kNotifyDir;
  m.options = {"bind", "nosuid", "noexec", "nodev", "ro"};
  cfg.mounts.push_back(std::move(m));
  // getenv(3) returns the first match: drop any NOTIFY_SOCKET of the config.
  auto& env = cfg.process->env;
  std::erase_if(env, [](const std::string& e) { return e.rfind("NOTIFY_SOCKET=", 0) == 0; });
  env.push_back("NOTIFY_SOCKET=" + container_socket_path());
}

Status make_notify_dir(const state::ContainerDir& dir) {
  if (::mkdirat(dir.fd(), kNotifyDir, 0755) != 0) {
    return Error::last("mkdir {}/{}", dir.path(), kNotifyDir).wrap("NOTIFY_SOCKET");
  }
  // mkdir(2) applies the umask; processes of any user in the container must
  // reach the socket.
  if (::fchmodat(dir.fd(), kNotifyDir, 0755, 0) != 0) {
    return Error::last("chmod {}/{}", dir.path(), kNotifyDir).wrap("NOTIFY_SOCKET");
  }
  return {};
}

Result<std::optional<NotifyProxy>> NotifyProxy::open(const state::ContainerDir& dir) {
  auto host = host_notify_socket();
  if (!host) return std::optional<NotifyProxy>();
  sys::UniqueFd nd(::openat(dir.fd(), kNotifyDir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!nd) {
    // Created without NOTIFY_SOCKET: the container has no socket to talk to.
    if (errno == ENOENT) return std::optional<NotifyProxy>();
    return Error::last("open {}/{}", dir.path(), kNotifyDir).wrap("NOTIFY_SOCKET");
  }
  // Bound through the directory's fd: a state root deeper than sun_path's
  // 108 bytes still works.
  std::string path = fmt::format("/proc/self/fd/{}/{}", nd.get(), kNotifySocketName);
  auto [addr, len] = TRY(unix_addr(path));
  sys::UniqueFd s(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s) return Error::last("socket(AF_UNIX, SOCK_DGRAM)");
  // A socket left by an earlier start that failed.
  (void)::unlinkat(nd.get(), kNotifySocketName, 0);
  std::string shown = fmt::format("{}/{}/{}", dir.path(), kNotifyDir, kNotifySocketName);
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    return Error::last("bind {}", shown).wrap("NOTIFY_SOCKET");
  }
  // Any user in the container may notify (connect(2) needs write permission).
  if (::chmod(path.c_str(), 0777) != 0) return Error::last("chmod {}", shown).wrap("NOTIFY_SOCKET");
  return std::optional<NotifyProxy>(NotifyProxy(std::move(s), std::move(*host)));
}

Status NotifyProxy::wait_ready(int init_pidfd, pid_t mainpid) {
  std::string ready;
  for (;;) {
    pollfd fds[2] = {{sock_.get(), POLLIN, 0}, {init_pidfd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return Error::last("poll notify socket");
    }
    if ((fds[0].revents & POLLIN) != 0) {
      char buf[4096];
      ssize_t n = ::recv(sock_.get(), buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n < 0) return Error::last("receive from the container's notify socket");
      if (auto line = ready_line(std::string_view(buf, static_cast<size_t>(n)))) {
        ready = std::move(*line);
        break;
      }
      continue;
    }
    if ((fds[1].revents & POLLIN) != 0) return {};  // the container is gone
  }
  std::string target = host_;
  sys::UniqueFd parent;
  if (target[0] == '/' && target.size() >= sizeof(sockaddr_un::sun_path)) {
    std::string dirname = target.substr(0, target.rfind('/'));
    parent.reset(::open(dirname.empty() ? "/" : dirname.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!parent) return Error::last("open {}", dirname).wrap("NOTIFY_SOCKET");
    target = fmt::format("/proc/self/fd/{}/{}", parent.get(), host_.substr(host_.rfind('/') + 1));
  }
  auto [addr, len] = TRY(unix_addr(target));
  sys::UniqueFd out(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!out) return Error::last("socket(AF_UNIX, SOCK_DGRAM)");
  if (::connect(out.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    return Error::last("connect {}", host_).wrap("NOTIFY_SOCKET");
  }
  TRY(send_to_host(out.get(), ready + "\n"));
  TRY(send_to_host(out.get(), fmt::format("MAINPID={}\n", mainpid)));
  return barrier(out.get());
}

}  // namespace husk::lifecycle
