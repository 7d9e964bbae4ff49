#include "lifecycle/exec.hpp"

#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <set>

#include "cgroup/layout.hpp"
#include "lifecycle/foreground.hpp"
#include "lifecycle/phase_timer.hpp"
#include "lifecycle/pid_file.hpp"
#include "lifecycle/seccomp_listener.hpp"
#include "linux/capabilities.hpp"
#include "linux/child.hpp"
#include "linux/paths.hpp"
#include "linux/process.hpp"
#include "linux/protocol.hpp"
#include "spec/parse.hpp"
#include "sys/clone.hpp"
#include "sys/pidfd.hpp"
#include "sys/unix_socket.hpp"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

namespace husk::lifecycle {

namespace protocol = linux_setup::protocol;

// ===================== the process to run (pure) =====================

namespace {

Result<uint32_t> parse_id(std::string_view s, const char* flag, const char* what) {
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
    return Error::arg("{}: invalid {} {:?} (format: <uid>[:<gid>], numeric)", flag, what,
                      std::string(s));
  }
  // (uid_t)-1 tells set*id(2) "leave unchanged": the process would stay root.
  if (v == UINT32_MAX) {
    return Error::arg("{}: invalid {} {:?} ((uid_t)-1 is not an id)", flag, what, std::string(s));
  }
  return v;
}

void add_caps(std::vector<std::string>& set, const std::vector<std::string>& caps) {
  for (const auto& c : caps) {
    if (std::find(set.begin(), set.end(), c) == set.end()) set.push_back(c);
  }
}

// "cap_net_admin" and "NET_ADMIN" mean CAP_NET_ADMIN.
std::string cap_name(std::string c) {
  for (auto& ch : c) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (c.rfind("CAP_", 0) != 0) c = "CAP_" + c;
  return c;
}

}  // namespace

std::vector<std::string> dedupe_env(const std::vector<std::string>& env) {
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& e : env) {
    std::string_view name = std::string_view(e).substr(0, e.find('='));
    auto same = std::find_if(out.begin(), out.end(), [&](const std::string& o) {
      return std::string_view(o).substr(0, o.find('=')) == name;
    });
    if (same == out.end()) {
      out.push_back(e);
    } else {
      *same = e;
    }
  }
  return out;
}

Result<spec::Process> merge_exec_process(spec::Process p, const ExecOverrides& o) {
  if (o.args.empty()) return Error::arg("process args cannot be empty");
  p.args = o.args;
  if (o.cwd && !o.cwd->empty()) p.cwd = *o.cwd;
  if (o.apparmor && !o.apparmor->empty()) {
    return Error::make(ErrorKind::Unsupported,
                       "--apparmor: AppArmor is not supported on this host (profile {:?})",
                       *o.apparmor);
  }
  if (o.process_label && !o.process_label->empty()) {
    return Error::make(ErrorKind::Unsupported,
                       "--process-label: SELinux is not supported on this host (label {:?})",
                       *o.process_label);
  }
  if (!o.caps.empty()) {
    std::vector<std::string> caps;
    for (const auto& c : o.caps) {
      caps.push_back(cap_name(c));
      if (!linux_setup::capability_from_name(caps.back())) {
        return Error::arg("--cap: unknown capability {:?}", c);
      }
    }
    // As runc: into every set but the inheritable one (CVE-2022-29162). An
    // ambient capability must also be inheritable (PR_CAP_AMBIENT_RAISE), so
    // it is raised only where the config already made it inheritable.
    if (!p.capabilities) p.capabilities.emplace();
    auto& set = *p.capabilities;
    add_caps(set.bounding, caps);
    add_caps(set.effective, caps);
    add_caps(set.permitted, caps);
    for (const auto& c : caps) {
      bool inheritable =
          std::find(set.inheritable.begin(), set.inheritable.end(), c) != set.inheritable.end();
      if (inheritable) add_caps(set.ambient, {c});
    }
  }
  p.env.insert(p.env.end(), o.env.begin(), o.env.end());
  for (size_t i = 0; i < o.env.size(); ++i) {
    if (o.env[i].find('=') == std::string::npos || o.env[i][0] == '=') {
      return Error::arg("--env: {:?} is not KEY=VALUE", o.env[i]);
    }
  }
  p.terminal = o.tty;
  if (o.no_new_privs) p.no_new_privileges = *o.no_new_privs;
  if (o.user && !o.user->empty()) {
    std::string_view u = *o.user;
    size_t colon = u.find(':');
    p.user.uid = TRY(parse_id(u.substr(0, colon), "--user", "uid"));
    if (colon != std::string_view::npos) {
      p.user.gid = TRY(parse_id(u.substr(colon + 1), "--user", "gid"));
    }
  }
  for (const auto& g : o.extra_gids) {
    uint32_t v = 0;
    auto [end, ec] = std::from_chars(g.data(), g.data() + g.size(), v);
    if (g.empty() || ec != std::errc() || end != g.data() + g.size() || v == UINT32_MAX) {
      return Error::arg("--additional-gids: {:?} is not a gid (a number from 0 to 4294967294)", g);
    }
    p.user.additional_gids.push_back(v);
  }
  return p;
}

Result<std::map<std::string, std::string>> parse_sub_cgroups(
    const std::vector<std::string>& values) {
  std::map<std::string, std::string> out;
  // The sub-cgroup is taken lexically, as a path below the container's
  // cgroup ("a/../b" is "b", "/a" is "a"): the kernel would resolve ".." in
  // the cgroupfs path to a cgroup outside the container's, so a path whose
  // cleaned form climbs out is refused, with runc's wording.
  auto sub_path = [](const std::string& value, std::string_view path) -> Result<std::string> {
    auto below = linux_setup::clean_below(path);
    if (!below) return Error::arg("--cgroup {:?}: {} is not a sub cgroup path", value, path);
    std::string clean = *std::move(below);
    if (clean.find("process_api") != std::string::npos) {
      return Error::arg("--cgroup: {:?}: refusing a path naming process_api", value);
    }
    return clean;
  };
  for (const auto& v : values) {
    size_t colon = v.find(':');
    if (colon != std::string::npos && v.find(':', colon + 1) != std::string::npos) {
      return Error::arg("invalid --cgroup argument: {}", v);
    }
    if (colon == std::string::npos) {
      if (values.size() != 1) {
        return Error::arg("invalid --cgroup argument: {} (missing <controller>: prefix)", v);
      }
      out[""] = TRY(sub_path(v, v));
      continue;
    }
    std::string path = TRY(sub_path(v, std::string_view(v).substr(colon + 1)));
    std::string_view ctrls = std::string_view(v).substr(0, colon);
    while (true) {
      size_t comma = ctrls.find(',');
      std::string_view c = ctrls.substr(0, comma);
      if (c.empty()) return Error::arg("invalid --cgroup argument: {} (empty controller)", v);
      out[std::string(c)] = path;
      if (comma == std::string_view::npos) break;
      ctrls.remove_prefix(comma + 1);
    }
  }
  return out;
}

// ===================== the child =====================
// Runs between clone3 and execve on data planned by the parent: raw
// syscalls, no allocation on the success path (only while building an Error).

namespace {

struct ChildPlan {
  linux_setup::ProcessPlan* process = nullptr;
  int init_pidfd = -1;
  int ns_flags = 0;  // CLONE_NEW* the child joins (never CLONE_NEWPID: done by the parent)
  int root_fd = -1;  // O_PATH /proc/<init>/root
  int console_socket = -1;
  std::optional<spec::ConsoleSize> console_size;
  int preserve_fds = 0;
  const char* keyring = nullptr;  // session keyring name: the container id
};

// A pty from the container's own devpts (we are in its mount namespace and
// root): the master goes to the console socket in runc's wire format, the
// slave becomes stdio and the controlling terminal of our new session.
Status setup_console(const ChildPlan& p) {
  linux_setup::Pty pty;
  TRY(linux_setup::open_pty(pty, p.console_size));
  TRY_CTX(sys::send_fd(p.console_socket, pty.name, pty.master.get()),
          "send the pty master to the console socket");
  return linux_setup::pty_as_stdio(pty.slave.get());
}

Status child_setup(protocol::Channel& ch, const ChildPlan& p) {
  linux_setup::reset_signals();
  auto start = TRY(ch.recv());
  if (start.type() != protocol::MsgType::Start) {
    return Error::make(ErrorKind::Protocol, "exec: expected Start, got {}",
                       protocol::name(start.type()));
  }
  // One setns(2) on the init's pidfd enters every namespace at once; the
  // kernel installs the user namespace first, so the other joins are checked
  // against the capabilities it grants (setns(2), "pidfd" form, Linux 5.8).
  if (p.ns_flags != 0 && ::setns(p.init_pidfd, p.ns_flags) != 0) {
    return Error::last("setns into the namespaces of the container's init (flags {:#x})",
                       static_cast<unsigned>(p.ns_flags));
  }
  // setns(CLONE_NEWNS) put us at the root of the mount namespace's root
  // mount; the init's root is the one to use (a no_pivot container is
  // chrooted below it). The fd was opened through the host's /proc.
  if (::fchdir(p.root_fd) != 0) return Error::last("fchdir to the root of the container's init");
  if (::chroot(".") != 0) return Error::last("chroot to the root of the container's init");
  ::close(p.root_fd);
  ::close(p.init_pidfd);
  // Its own session, as the init: for a controlling terminal, and so that
  // the caller's job control signals do not reach it directly.
  if (::setsid() < 0) return Error::last("setsid");
  if (::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, p.keyring) < 0 && errno != ENOSYS) {
    return Error::last("keyctl(KEYCTL_JOIN_SESSION_KEYRING, {:?})", p.keyring);
  }
  if (p.console_socket >= 0) TRY_CTX(setup_console(p), "process.terminal");
  TRY(linux_setup::fix_stdio_owner(p.process->uid));
  p.process->seccomp_listener = [&ch](int fd) {
    int fds[] = {fd};
    return ch.send(protocol::MsgType::SeccompListener, 0, 0, {}, fds);
  };
  TRY(linux_setup::apply_process(*p.process, {p.preserve_fds, {ch.fd(), -1, -1, -1}}));
  TRY(linux_setup::load_notifying_seccomp(*p.process));
  return ch.send(protocol::MsgType::Ready);
}

[[noreturn]] void child_main(protocol::Channel& ch, const ChildPlan& p) noexcept {
  Status s = child_setup(ch, p);
  if (s) s = linux_setup::exec_process(*p.process);  // returns only on failure
  (void)protocol::send_error(ch, s.error());
  ::_exit(255);
}

// ===================== the parent =====================

Result<std::string> absolute(const std::string& p) {
  if (!p.empty() && p[0] == '/') return p;
  char cwd[PATH_MAX];
  if (::getcwd(cwd, sizeof cwd) == nullptr) return Error::last("getcwd");
  return std::string(cwd) + "/" + p;
}

Result<std::string> read_file(const std::string& path, const char* what) {
  sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Error::last("open {}", path).wrap("{}", what);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::last("read {}", path).wrap("{}", what);
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

// runc's wording for each status exec refuses.
Status check_status(state::Status s, bool ignore_paused) {
  switch (s) {
    case state::Status::Created:
    case state::Status::Running:
      return {};
    case state::Status::Paused:
      if (ignore_paused) return {};
      return Error::make(ErrorKind::BadState,
                         "cannot exec in a paused container (use --ignore-paused to override)");
    case state::Status::Stopped:
      return Error::make(ErrorKind::BadState, "cannot exec in a stopped container");
    case state::Status::Creating:
      return Error::make(ErrorKind::BadState, "cannot exec in a container that is being created");
  }
  return {};
}

Error stopped() { return Error::make(ErrorKind::BadState, "cannot exec in a stopped container"); }

// Every fd the program gets besides stdio must be open before husk opens any
// of its own, which would otherwise land in the range (CVE-2024-21626).
Status check_preserved_fds(int n) {
  if (n < 0) return Error::arg("--preserve-fds: must not be negative");
  for (int i = 0; i < n; ++i) {
    if (::fcntl(3 + i, F_GETFD) < 0) {
      return Error::last("unable to stat preserved-fd {} (of {})", i, n);
    }
  }
  return {};
}

struct NsFile {
  int flag;
  const char* name;
};
constexpr NsFile kNamespaces[] = {
    {CLONE_NEWUSER, "user"}, {CLONE_NEWNS, "mnt"},    {CLONE_NEWCGROUP, "cgroup"},
    {CLONE_NEWUTS, "uts"},   {CLONE_NEWIPC, "ipc"},   {CLONE_NEWNET, "net"},
    {CLONE_NEWPID, "pid"},   {CLONE_NEWTIME, "time"},
};

// The namespaces of the init that are not ours. Only those are joined:
// setns(2) into one's own user namespace is EINVAL (it would re-grant
// capabilities), and the others would be no-ops.
Result<int> foreign_namespaces(int proc_dir) {
  int flags = 0;
  for (const auto& ns : kNamespaces) {
    std::string theirs = fmt::format("ns/{}", ns.name);
    std::string ours = fmt::format("/proc/self/ns/{}", ns.name);
    struct stat a {};
    struct stat b {};
    if (::stat(ours.c_str(), &b) != 0) {
      if (errno == ENOENT) continue;  // a kernel without this namespace type
      return Error::last("stat {}", ours);
    }
    if (::fstatat(proc_dir, theirs.c_str(), &a, 0) != 0) {
      return Error::last("stat /proc/<init>/{}", theirs);
    }
    if (a.st_dev != b.st_dev || a.st_ino != b.st_ino) flags |= ns.flag;
  }
  return flags;
}

// Points pid_for_children at the init's pid namespace while it lives: the
// child must be created there (a pid namespace can only be entered at
// clone), and back at our own afterwards.
class PidNsSwitch {
 public:
  static Result<PidNsSwitch> enter(int init_pidfd) {
    sys::UniqueFd own(::open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC));
    if (!own) return Error::last("open /proc/self/ns/pid");
    if (::setns(init_pidfd, CLONE_NEWPID) != 0) {
      return Error::last("setns into the pid namespace of the container's init");
    }
    return PidNsSwitch(std::move(own));
  }
  PidNsSwitch(PidNsSwitch&&) = default;
  PidNsSwitch& operator=(PidNsSwitch&&) = delete;
  PidNsSwitch(const PidNsSwitch&) = delete;
  ~PidNsSwitch() {
    if (own_) (void)::setns(own_.get(), CLONE_NEWPID);
  }

 private:
  explicit PidNsSwitch(sys::UniqueFd own) : own_(std::move(own)) {}
  sys::UniqueFd own_;
};

// The sub-cgroup directories (--cgroup) the child is moved into after it
// joined the container's cgroup, one per hierarchy that has one.
Result<std::vector<std::string>> sub_cgroup_dirs(const state::ContainerState& st,
                                                 const std::vector<std::string>& values) {
  std::vector<std::string> dirs;
  if (values.empty()) return dirs;
  auto subs = TRY(parse_sub_cgroups(values));
  if (st.cgroup.empty()) return Error::arg("--cgroup: the container has no cgroup");
  auto layout = TRY_CTX(cgroup::parse_layout(st.cgroup), "cgroup of container {}", st.id);
  std::set<std::string> used;
  for (const auto& h : layout.hierarchies) {
    const std::string* sub = nullptr;
    if (!h.unified) {
      for (const auto& c : h.controllers) {
        auto it = subs.find(c);
        if (it != subs.end()) {
          sub = &it->second;
          used.insert(c);
        }
      }
    }
    if (sub == nullptr) {
      auto it = subs.find("");
      if (it != subs.end()) sub = &it->second;
    }
    if (sub == nullptr) continue;
    std::string dir = sub->empty() ? layout.dir(h) : layout.dir(h) + "/" + *sub;
    struct stat s {};
    if (::stat(dir.c_str(), &s) != 0 || !S_ISDIR(s.st_mode)) {
      return Error::last("--cgroup: sub-cgroup {:?} of the container: {}", *sub, dir);
    }
    dirs.push_back(dir);
  }
  for (const auto& [ctrl, path] : subs) {
    if (!ctrl.empty() && used.count(ctrl) == 0) {
      return Error::arg(
          "--cgroup: unknown controller {} (the container has no such cgroup v1 "
          "hierarchy)",
          ctrl);
    }
  }
  return dirs;
}

Status join_sub_cgroups(const std::vector<std::string>& dirs, pid_t pid) {
  std::string text = std::to_string(pid);
  for (const auto& d : dirs) {
    std::string procs = d + "/cgroup.procs";
    sys::UniqueFd fd(::open(procs.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      return Error::last("add pid {} to {}", pid, procs).wrap("--cgroup");
    }
  }
  return {};
}

// What exec needs from the container, gathered before any side effect.
struct Target {
  state::ContainerState st;
  sys::Process init;
  sys::UniqueFd proc_dir;  // /proc/<init>
  spec::Config config;     // the saved config.json
};

Result<Target> open_target(const Context& ctx, const ExecOptions& o) {
  auto store = TRY(open_store(ctx));
  auto dir = TRY(store.open_container(o.id));
  Observed obs = TRY(observe(dir));
  TRY(check_status(obs.status, o.ignore_paused));
  auto init = sys::Process::open(obs.st.pid, obs.st.pid_start_time);
  if (!init) {
    if (init.error().kind() == ErrorKind::NotFound) return stopped();
    return std::move(init).error();
  }
  sys::UniqueFd proc_dir(
      ::open(fmt::format("/proc/{}", obs.st.pid).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!proc_dir) return Error::last("open /proc/{}", obs.st.pid);
  // The pidfd pins the process; if it is still alive now, /proc/<pid> opened
  // above is its directory, not a successor's.
  if (!sys::pidfd_send_signal(init->fd(), 0)) return stopped();
  auto bytes = TRY(dir.read_config());
  auto cfg = TRY_CTX(spec::parse_config(bytes), "saved config.json of container {}", o.id);
  return Target{std::move(obs.st), std::move(*init), std::move(proc_dir), std::move(cfg)};
}

Result<spec::Process> exec_spec(const Target& t, const ExecOptions& o) {
  spec::Process p;
  if (o.process_file) {
    std::string path = TRY(absolute(*o.process_file));
    std::string text = TRY(read_file(path, "--process"));
    p = TRY_CTX(spec::parse_process(text), "--process {}", path);
  } else {
    if (!t.config.process) return Error::spec("config.json of the container has no process");
    p = TRY(merge_exec_process(*t.config.process, o.overrides));
  }
  p.env = dedupe_env(p.env);
  return p;
}

// Everything the parent holds while the child sets up, and how to undo it.
struct Child {
  pid_t pid = 0;
  sys::UniqueFd pidfd;
  void kill_and_reap() {
    if (pid <= 0) return;
    (void)sys::pidfd_send_signal(pidfd.get(), SIGKILL);
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    pid = 0;
  }
};

// After Ready: end-of-file is execve done; a message is the child's error.
Status await_exec(protocol::Channel& ch) {
  for (;;) {
    char byte = 0;
    ssize_t n = ::recv(ch.fd(), &byte, 1, MSG_PEEK);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::last("recv on the exec socket");
    if (n == 0) return {};
    auto m = TRY(ch.recv());
    if (m.type() == protocol::MsgType::Error) return protocol::decode_error(m);
    return Error::make(ErrorKind::Protocol, "exec: unexpected {} after Ready",
                       protocol::name(m.type()));
  }
}

// The child's next message, `want`; its Error, or how it died without a word.
Result<protocol::Message> await_child(protocol::Channel& ch, Child& child, protocol::MsgType want) {
  auto m = ch.recv();
  if (!m) {
    // Died without a word (killed, or a crash).
    Error e = std::move(m).error();
    int st = 0;
    if (::waitpid(child.pid, &st, 0) == child.pid) {
      child.pid = 0;
      if (WIFSIGNALED(st))
        return std::move(e).wrap("exec process killed by signal {}", WTERMSIG(st));
      return std::move(e).wrap("exec process exited with status {}", WEXITSTATUS(st));
    }
    return e;
  }
  if (m->type() == protocol::MsgType::Error) return protocol::decode_error(*m);
  if (m->type() != want || (want == protocol::MsgType::SeccompListener && m->fds.size() != 1)) {
    return Error::make(ErrorKind::Protocol, "exec: expected {}, got {}", protocol::name(want),
                       protocol::name(m->type()));
  }
  return m;
}

// A notifying filter's fd (protocol.hpp, 6b) goes to the agent before Ready,
// with the state of the running container and the exec'd process's pid.
Status await_ready(protocol::Channel& ch, Child& child, const Target& t) {
  if (seccomp_notifies(t.config)) {
    auto m = TRY(await_child(ch, child, protocol::MsgType::SeccompListener));
    TRY(send_to_seccomp_listener(*t.config.linux->seccomp, t.st, "running", child.pid,
                                 m.fds[0].get()));
  }
  TRY(await_child(ch, child, protocol::MsgType::Ready));
  return {};
}

struct Io {
  sys::UniqueFd console;       // what the child sends the pty master to
  sys::UniqueFd console_ours;  // our end when we relay the terminal
  sys::UniqueFd pidfd_socket;
};

Result<Io> connect_io(const spec::Process& p, const ExecOptions& o) {
  Io io;
  if (p.terminal && o.console_socket) {
    std::string path = TRY(absolute(*o.console_socket));
    io.console = TRY_CTX(sys::connect_unix(path, SOCK_STREAM), "--console-socket");
  } else if (p.terminal && !o.detach) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      return Error::last("socketpair for the console");
    }
    io.console_ours.reset(sv[0]);
    io.console.reset(sv[1]);
  } else if (p.terminal) {
    return Error::arg("cannot allocate tty if husk will detach without setting console socket");
  } else if (o.console_socket) {
    return Error::arg("cannot use console socket if husk will not detach or allocate tty");
  }
  if (o.pidfd_socket) {
    std::string path = TRY(absolute(*o.pidfd_socket));
    io.pidfd_socket = TRY_CTX(sys::connect_unix(path, SOCK_STREAM), "--pidfd-socket");
  }
  return io;
}

}  // namespace

Result<int> exec(const Context& ctx, const ExecOptions& o) {
  // --debug: the same per-phase lines as create, start and run.
  PhaseTimer<Verb::Exec> timer(ctx);
  TRY(check_preserved_fds(o.preserve_fds));
  std::optional<std::string> pid_file;
  if (o.pid_file) pid_file = TRY(absolute(*o.pid_file));
  Target t = TRY(open_target(ctx, o));
  spec::Process proc = TRY(exec_spec(t, o));
  linux_setup::ProcessOptions po;
  const spec::Linux* lx = t.config.linux ? &*t.config.linux : nullptr;
  po.seccomp = lx && lx->seccomp ? &*lx->seccomp : nullptr;
  po.seccomp_cache_dir = seccomp_cache_dir();
  po.is_exec = true;
  auto plan = TRY(linux_setup::plan_process(proc, po));
  for (const auto& w : plan->warnings) ctx.warn(w);
  auto cg = TRY(load_cgroup(t.st));
  auto sub_dirs = TRY(sub_cgroup_dirs(t.st, o.cgroups));
  int ns = TRY(foreign_namespaces(t.proc_dir.get()));
  sys::UniqueFd root_fd(::openat(t.proc_dir.get(), "root", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd) return Error::last("open /proc/{}/root", t.st.pid);
  Io io = TRY(connect_io(proc, o));
  timer.mark("plan");

  // Signals are taken before the clone, so none is lost between the child's
  // birth and the wait (the child resets its mask).
  sys::UniqueFd sigfd;
  if (!o.detach) sigfd = TRY(take_signals());
  // Non-dumpable before the clone (the child inherits it): once the child is
  // in the container's pid namespace, the container's processes must not be
  // able to open /proc/<child>/exe, the host's husk binary, or ptrace it
  // (CVE-2019-5736). execve of the program makes it dumpable again.
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return Error::last("prctl(PR_SET_DUMPABLE, 0)");
  // execCPUAffinity.initial applies before the cgroup join: set it on
  // ourselves, the child inherits it.
  TRY(linux_setup::apply_initial_cpu_affinity(*plan));

  ChildPlan cp;
  cp.process = plan.get();
  cp.init_pidfd = t.init.fd();
  cp.ns_flags = ns & ~CLONE_NEWPID;
  cp.root_fd = root_fd.get();
  cp.console_socket = io.console ? io.console.get() : -1;
  cp.console_size = proc.console_size;
  cp.preserve_fds = o.preserve_fds;
  cp.keyring = o.id.c_str();

  auto [mine, theirs] = TRY(protocol::make_channel_pair());
  Child child;
  {
    std::optional<PidNsSwitch> pidns;
    if ((ns & CLONE_NEWPID) != 0) pidns.emplace(TRY(PidNsSwitch::enter(t.init.fd())));
    std::fflush(nullptr);  // the child has a copy of every stdio buffer
    sys::Cloned c = TRY(sys::clone3_pidfd(0));
    if (c.is_child()) {
      mine.close();
      child_main(theirs, cp);
    }
    child.pid = c.pid;
    child.pidfd = std::move(c.pidfd);
  }
  // Only the child may hold its end: ours would hide its exec (no EOF).
  theirs.close();
  io.console.reset();
  sys::ScopeGuard guard([&child] { child.kill_and_reap(); });
  timer.mark("clone");

  if (cg) TRY_CTX(cg->add_pid(child.pid), "exec: join the container's cgroup");
  TRY(join_sub_cgroups(sub_dirs, child.pid));
  TRY(linux_setup::set_oom_score_adj(*plan, child.pid));
  timer.mark("join");
  TRY(mine.send(protocol::MsgType::Start));
  TRY(await_ready(mine, child, t));
  std::optional<TerminalRelay> tty;
  if (io.console_ours) tty.emplace(TRY(receive_master(io.console_ours.get())));
  TRY(await_exec(mine));
  timer.mark("exec");
  if (pid_file) TRY(write_pid_file(*pid_file, child.pid));
  if (io.pidfd_socket) {
    TRY_CTX(sys::send_fd(io.pidfd_socket.get(), "setns", child.pidfd.get()), "--pidfd-socket");
    io.pidfd_socket.reset();
  }
  guard.dismiss();
  if (o.detach) return 0;
  int code = TRY(
      wait_forwarding(Waited{child.pid, child.pidfd.get()}, sigfd.get(), tty ? &*tty : nullptr));
  timer.mark("wait");
  return code;
}

}  // namespace husk::lifecycle
