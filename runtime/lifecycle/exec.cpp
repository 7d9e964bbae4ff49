#include "lifecycle/exec.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>

#include "lifecycle/exec_cgroup.hpp"
#include "lifecycle/foreground.hpp"
#include "lifecycle/phase_timer.hpp"
#include "lifecycle/pid_file.hpp"
#include "lifecycle/seccomp_listener.hpp"
#include "linux/exec_child.hpp"
#include "linux/namespaces.hpp"
#include "linux/process.hpp"
#include "linux/protocol.hpp"
#include "spec/parse.hpp"
#include "sys/clone.hpp"
#include "sys/file.hpp"
#include "sys/pidfd.hpp"
#include "sys/unix_socket.hpp"

namespace husk::lifecycle {

namespace protocol = linux_setup::protocol;

namespace {

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
    std::string path = TRY(absolute_path(*o.process_file));
    std::string text = TRY_CTX(sys::read_file(path), "--process");
    p = TRY_CTX(spec::parse_process(text), "--process {}", path);
  } else {
    if (!t.config.process) return Error::spec("config.json of the container has no process");
    p = TRY(merge_exec_process(*t.config.process, o.overrides));
  }
  p.env = dedupe_env(p.env);
  return p;
}

struct Io {
  sys::UniqueFd console;       // what the child sends the pty master to
  sys::UniqueFd console_ours;  // our end when we relay the terminal
  sys::UniqueFd pidfd_socket;
};

Result<Io> connect_io(const spec::Process& p, const ExecOptions& o) {
  Io io;
  if (p.terminal && o.console_socket) {
    std::string path = TRY(absolute_path(*o.console_socket));
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
    std::string path = TRY(absolute_path(*o.pidfd_socket));
    io.pidfd_socket = TRY_CTX(sys::connect_unix(path, SOCK_STREAM), "--pidfd-socket");
  }
  return io;
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

// Everything planned before the first side effect.
struct Prepared {
  explicit Prepared(Target target) : t(std::move(target)) {}
  Target t;
  spec::Process proc;
  linux_setup::ProcessPlanPtr plan;
  std::unique_ptr<cgroup::Manager> cg;
  std::vector<std::string> sub_dirs;  // --cgroup
  int ns = 0;                         // the init's namespaces that are not ours
  sys::UniqueFd root_fd;              // O_PATH /proc/<init>/root
  Io io;
  std::optional<std::string> pid_file;
};

Result<Prepared> prepare(const Context& ctx, const ExecOptions& o) {
  TRY(check_preserved_fds(o.preserve_fds));
  std::optional<std::string> pid_file;
  if (o.pid_file) pid_file = TRY(absolute_path(*o.pid_file));
  Prepared x(TRY(open_target(ctx, o)));
  x.pid_file = std::move(pid_file);
  x.proc = TRY(exec_spec(x.t, o));
  linux_setup::ProcessOptions po;
  const spec::Linux* lx = x.t.config.linux ? &*x.t.config.linux : nullptr;
  po.seccomp = lx && lx->seccomp ? &*lx->seccomp : nullptr;
  po.seccomp_cache_dir = seccomp_cache_dir();
  po.is_exec = true;
  x.plan = TRY(linux_setup::plan_process(x.proc, po));
  for (const auto& w : x.plan->warnings) ctx.warn(w);
  x.cg = TRY(load_cgroup(x.t.st));
  x.sub_dirs = TRY(sub_cgroup_dirs(x.t.st, o.cgroups));
  x.ns = TRY(linux_setup::foreign_namespaces(x.t.proc_dir.get()));
  x.root_fd.reset(::openat(x.t.proc_dir.get(), "root", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!x.root_fd) return Error::last("open /proc/{}/root", x.t.st.pid);
  x.io = TRY(connect_io(x.proc, o));
  return x;
}

// What the parent does to itself before the clone, for the child to inherit.
Status prepare_parent(const linux_setup::ProcessPlan& plan) {
  // Non-dumpable before the clone (the child inherits it): once the child is
  // in the container's pid namespace, the container's processes must not be
  // able to open /proc/<child>/exe, the host's husk binary, or ptrace it
  // (CVE-2019-5736). execve of the program makes it dumpable again.
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return Error::last("prctl(PR_SET_DUMPABLE, 0)");
  // execCPUAffinity.initial applies before the cgroup join: set it on
  // ourselves, the child inherits it.
  return linux_setup::apply_initial_cpu_affinity(plan);
}

linux_setup::ExecChildPlan child_plan(const Prepared& x, const ExecOptions& o) {
  linux_setup::ExecChildPlan cp;
  cp.process = x.plan.get();
  cp.init_pidfd = x.t.init.fd();
  cp.ns_flags = x.ns & ~CLONE_NEWPID;
  cp.root_fd = x.root_fd.get();
  cp.console_socket = x.io.console ? x.io.console.get() : -1;
  cp.console_size = x.proc.console_size;
  // Relaying our own terminal: the child sizes the new pty like it before the
  // program runs. Copied only once the program has started (the relay's
  // resize()), the size would race the program's first look at it: a shell's
  // `stty size` could read 0 0.
  if (!cp.console_size && x.io.console_ours) cp.console_size = own_terminal_size();
  cp.preserve_fds = o.preserve_fds;
  cp.keyring = o.id.c_str();
  return cp;
}

// The child is created in the init's pid namespace: one can only be
// entered at clone.
Result<Child> clone_child(Prepared& x, const ExecOptions& o, protocol::Channel& mine,
                          protocol::Channel& theirs) {
  const linux_setup::ExecChildPlan cp = child_plan(x, o);
  Child child;
  {
    int pid_ns = (x.ns & CLONE_NEWPID) != 0 ? x.t.init.fd() : -1;
    auto pidns = TRY(linux_setup::PidNsForChildren::enter(
        pid_ns, "setns into the pid namespace of the container's init"));
    std::fflush(nullptr);  // the child has a copy of every stdio buffer
    sys::Cloned c = TRY(sys::clone3_pidfd(0));
    if (c.is_child()) {
      mine.close();
      linux_setup::exec_child_main(theirs, cp);
    }
    child.pid = c.pid;
    child.pidfd = std::move(c.pidfd);
  }
  // Only the child may hold its end: ours would hide its exec (no EOF).
  theirs.close();
  x.io.console.reset();
  return child;
}

// From the cgroup joins to the exec'd program.
Status drive_child(Prepared& x, Child& child, protocol::Channel& ch,
                   std::optional<TerminalRelay>& tty, PhaseTimer<Verb::Exec>& timer) {
  if (x.cg) TRY_CTX(x.cg->add_pid(child.pid), "exec: join the container's cgroup");
  TRY(join_sub_cgroups(x.sub_dirs, child.pid));
  TRY(linux_setup::set_oom_score_adj(*x.plan, child.pid));
  timer.mark("join");
  TRY(ch.send(protocol::MsgType::Start));
  TRY(await_ready(ch, child, x.t));
  if (x.io.console_ours) tty.emplace(TRY(receive_master(x.io.console_ours.get())));
  TRY(await_exec(ch));
  timer.mark("exec");
  if (x.pid_file) TRY(write_pid_file(*x.pid_file, child.pid));
  if (x.io.pidfd_socket) {
    TRY_CTX(sys::send_fd(x.io.pidfd_socket.get(), "setns", child.pidfd.get()), "--pidfd-socket");
    x.io.pidfd_socket.reset();
  }
  return {};
}

}  // namespace

Result<int> exec(const Context& ctx, const ExecOptions& o) {
  // --debug: the same per-phase lines as create, start and run.
  PhaseTimer<Verb::Exec> timer(ctx);
  Prepared x = TRY(prepare(ctx, o));
  timer.mark("plan");
  // Signals are taken before the clone, so none is lost between the child's
  // birth and the wait (the child resets its mask).
  sys::UniqueFd sigfd;
  if (!o.detach) sigfd = TRY(take_signals());
  TRY(prepare_parent(*x.plan));
  auto [mine, theirs] = TRY(protocol::make_channel_pair());
  Child child = TRY(clone_child(x, o, mine, theirs));
  sys::ScopeGuard guard([&child] { child.kill_and_reap(); });
  timer.mark("clone");
  std::optional<TerminalRelay> tty;
  TRY(drive_child(x, child, mine, tty, timer));
  guard.dismiss();
  if (o.detach) return 0;
  int code = TRY(
      wait_forwarding(Waited{child.pid, child.pidfd.get()}, sigfd.get(), tty ? &*tty : nullptr));
  timer.mark("wait");
  return code;
}

}  // namespace husk::lifecycle
