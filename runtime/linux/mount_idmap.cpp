// idmap / ridmap bind mounts (mount_setattr(2) MOUNT_ATTR_IDMAP, Linux 5.12),
// prepared in the parent. Idmapping a mount needs CAP_SYS_ADMIN in the user
// namespace owning the source's superblock (the host's for a host path), so
// it cannot be done by an init already inside the container's user
// namespace. The parent makes the detached, idmapped tree before the clone;
// the init inherits the fd and only attaches it (move_mount).
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "linux/mount.hpp"
#include "sys/mount_api.hpp"

namespace husk::linux_setup {

namespace {

Status write_proc(pid_t pid, const char* file, const std::string& text) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + file;
  auto fd = TRY(sys::openat(AT_FDCWD, path.c_str(), O_WRONLY));
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    return Error::last("write {} to {}", text, path);
  }
  return {};
}

// A user namespace holding the mapping, kept alive by the returned fd. The
// helper child only unshares and waits: it runs no code of ours beyond that,
// and exits (without atexit handlers) as soon as the parent has the fd.
Result<sys::UniqueFd> userns_with_maps(const std::string& uid_map, const std::string& gid_map) {
  int ready[2], go[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return Error::last("pipe2");
  sys::UniqueFd ready_r(ready[0]), ready_w(ready[1]);
  if (::pipe2(go, O_CLOEXEC) != 0) return Error::last("pipe2");
  sys::UniqueFd go_r(go[0]), go_w(go[1]);
  pid_t pid = ::fork();
  if (pid < 0) return Error::last("fork (idmap user namespace helper)");
  if (pid == 0) {
    char c = 0;
    if (::unshare(CLONE_NEWUSER) == 0 && ::write(ready[1], "x", 1) == 1) {
      (void)!::read(go[0], &c, 1);  // EOF once the parent closes its end
    }
    ::_exit(0);
  }
  sys::ScopeGuard reap([pid] {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  });
  ready_w.reset();
  char c = 0;
  if (::read(ready_r.get(), &c, 1) != 1)
    return Error::sys(EPERM, "unshare(CLONE_NEWUSER) in helper");
  // Without setgroups "deny", gid_map needs CAP_SETGID in the parent user
  // namespace, which the root parent has (user_namespaces(7)).
  TRY(write_proc(pid, "uid_map", uid_map));
  TRY(write_proc(pid, "gid_map", gid_map));
  std::string ns = "/proc/" + std::to_string(pid) + "/ns/user";
  return sys::openat(AT_FDCWD, ns.c_str(), O_RDONLY);
}

}  // namespace

std::string id_map_text(const std::vector<spec::IdMapping>& maps) {
  std::string out;
  for (const auto& m : maps) {
    out += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " +
           std::to_string(m.size) + "\n";
  }
  return out;
}

Status prepare_idmapped_mount(MountPlan& m) {
  if (!m.idmap || m.prepared) return {};
  auto userns = TRY_CTX(userns_with_maps(m.idmap_uid_map, m.idmap_gid_map),
                        "{}: user namespace for idmap", m.field());
  unsigned flags = OPEN_TREE_CLONE | (m.recursive ? AT_RECURSIVE : 0);
  auto tree = TRY_CTX(sys::open_tree(AT_FDCWD, m.source.c_str(), flags), "{}: bind source {}",
                      m.field(), m.source);
  mount_attr a{};
  a.attr_set = MOUNT_ATTR_IDMAP;
  a.userns_fd = static_cast<uint64_t>(userns.get());
  unsigned rec = m.idmap_recursive ? AT_RECURSIVE : 0;
  TRY_CTX(sys::mount_setattr(tree.get(), "", AT_EMPTY_PATH | rec, a), "{}: idmap {}", m.field(),
          m.source);
  TRY_CTX(set_bind_attrs(tree.get(), m.attrs, m.rattrs), "{}", m.field());
  m.prepared = std::move(tree);
  return {};
}

}  // namespace husk::linux_setup
