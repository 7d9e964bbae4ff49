#include "lifecycle/create.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>

#include "cgroup/cgroup.hpp"
#include "cgroup/resources.hpp"
#include "hooks/hooks.hpp"
#include "lifecycle/admin_hooks.hpp"
#include "lifecycle/cgroup_parents.hpp"
#include "lifecycle/notify.hpp"
#include "lifecycle/phase_timer.hpp"
#include "lifecycle/pid_file.hpp"
#include "lifecycle/seccomp_listener.hpp"
#include "linux/init.hpp"
#include "linux/namespaces.hpp"
#include "linux/process.hpp"
#include "linux/protocol.hpp"
#include "linux/rootfs.hpp"
#include "linux/rootless.hpp"
#include "spec/parse.hpp"
#include "spec/state_json.hpp"
#include "spec/validate.hpp"
#include "sys/clone.hpp"
#include "sys/file.hpp"
#include "sys/pidfd.hpp"
#include "sys/proc.hpp"
#include "sys/unix_socket.hpp"

namespace husk::lifecycle {

namespace {

namespace protocol = linux_setup::protocol;

// ---- step 1: the bundle ----

struct Loaded {
  std::string bundle;  // absolute, clean
  std::string bytes;   // config.json as read
  spec::Config cfg;
  std::string rootfs;       // absolute, symlinks resolved
  bool no_program = false;  // config.json has no process
};

// config.md makes process REQUIRED only when start is called, so a bundle
// without one is created like any other; its init then waits for a start
// that can only fail (start.cpp). It waits as an unprivileged root: no
// capability in any set, no_new_privs, nothing to exec.
spec::Process no_program_process() {
  spec::Process p;
  p.args = {"/"};
  p.cwd = "/";
  p.capabilities.emplace();
  p.no_new_privileges = true;
  return p;
}

Result<Loaded> load_bundle(const Context& ctx, const CreateOptions& o) {
  Loaded l;
  auto text = TRY(read_bundle(o.bundle));
  l.bundle = std::move(text.dir);
  l.bytes = std::move(text.bytes);
  l.cfg = TRY_CTX(spec::parse_config(l.bytes), "{}/config.json", l.bundle);
  std::vector<std::string> warnings;
  TRY(spec::validate(l.cfg, &warnings));
  for (const auto& w : warnings) ctx.warn(w);
  if (!l.cfg.process) {
    if (o.start_follows) return Error::spec("process: required, since run starts the container");
    l.cfg.process = no_program_process();
    l.no_program = true;
  }
  if (!l.cfg.root || l.cfg.root->path.empty()) return Error::spec("root.path: required");
  l.rootfs = TRY(resolve_rootfs(l.bundle, *l.cfg.root));
  return l;
}

// ---- step 2: what the caller hands over (fds, console) ----

// Socket activation (sd_listen_fds(3)): fds 3.. when LISTEN_PID is us. They
// go to the container, which sees them as its init's (LISTEN_PID=1).
int listen_fds() {
  const char* pid = std::getenv("LISTEN_PID");
  const char* n = std::getenv("LISTEN_FDS");
  if (pid == nullptr || n == nullptr || std::atoi(pid) != ::getpid()) return 0;
  return std::max(std::atoi(n), 0);
}

// Checked first thing: every fd that will cross into the container must be
// open before husk opens any of its own, which would otherwise land in the
// range and leak into the container (a host directory fd there is
// CVE-2024-21626).
Result<int> check_passed_fds(int listen, int preserve) {
  if (preserve < 0) return Error::arg("--preserve-fds: must not be negative");
  for (int fd = 3; fd < 3 + listen; ++fd) {
    if (::fcntl(fd, F_GETFD) < 0) return Error::last("LISTEN_FDS={}: fd {}", listen, fd);
  }
  for (int i = 0; i < preserve; ++i) {
    if (::fcntl(3 + listen + i, F_GETFD) < 0) {
      return Error::last("unable to stat preserved-fd {} (of {})", i, preserve);
    }
  }
  return listen + preserve;
}

Result<sys::UniqueFd> connect_console(const spec::Process& proc, const CreateOptions& o) {
  if (proc.terminal && o.own_console >= 0 && !o.console_socket) {
    sys::UniqueFd fd(::fcntl(o.own_console, F_DUPFD_CLOEXEC, 3));
    if (!fd) return Error::last("dup console socket");
    return fd;
  }
  if (proc.terminal && !o.console_socket) {
    return Error::arg("cannot allocate tty if husk will detach without setting console socket");
  }
  if (!proc.terminal && o.console_socket) {
    return Error::arg("cannot use console socket if husk will not detach or allocate tty");
  }
  if (!proc.terminal) return sys::UniqueFd();
  std::string path = TRY(absolute_path(*o.console_socket));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return Error::arg("--console-socket: path too long: {}", path);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  sys::UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) return Error::last("socket(AF_UNIX)");
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Error::last("connect {}", path).wrap("--console-socket");
  }
  return s;
}

// ---- step 3: plans (no side effects) ----

struct Plans {
  linux_setup::NamespacePlan ns;
  linux_setup::RootfsPlanPtr rootfs;
  linux_setup::ProcessPlanPtr process;
  spec::Resources resources;
  std::unique_ptr<cgroup::Manager> cgroup;
  int preserve_fds = 0;
  sys::UniqueFd console;
  sys::UniqueFd pidfd_socket;  // connected at plan time, used once the init is ready
};

bool hooks_round_trip(const spec::Config& cfg) {
  if (!cfg.hooks) return false;
  const auto& h = *cfg.hooks;
  return !h.prestart.empty() || !h.create_runtime.empty() || !h.create_container.empty() ||
         !h.start_container.empty();
}

Result<Plans> make_plans(const Context& ctx, Loaded& l, const CreateOptions& o) {
  Plans p;
  // Valid configs husk does not implement: an explicit error, never ignored.
  if (auto u = unsupported_features(l.cfg); !u.empty()) return std::move(u.front());
  p.ns = TRY(linux_setup::plan_namespaces(l.cfg));
  linux_setup::RootfsOptions ro;
  ro.rootfs = l.rootfs;
  ro.bundle = l.bundle;
  ro.no_pivot = o.no_pivot;
  ro.shared_mount_ns = !p.ns.new_mount;
  ro.console = l.cfg.process->terminal;
  p.rootfs = TRY(linux_setup::plan_rootfs(l.cfg, ro));
  if (int n = listen_fds(); n > 0) {
    l.cfg.process->env.push_back(fmt::format("LISTEN_FDS={}", n));
    l.cfg.process->env.emplace_back("LISTEN_PID=1");
  }
  linux_setup::ProcessOptions po;
  po.seccomp = l.cfg.linux && l.cfg.linux->seccomp ? &*l.cfg.linux->seccomp : nullptr;
  po.seccomp_cache_dir = seccomp_cache_dir();
  p.process = TRY(linux_setup::plan_process(*l.cfg.process, po));
  p.process->no_program = l.no_program;
  for (const auto& w : p.process->warnings) ctx.warn(w);
  const spec::Linux* lx = l.cfg.linux ? &*l.cfg.linux : nullptr;
  p.resources = cgroup::container_resources(lx);
  cgroup::Options co = TRY(cgroup_options(ctx, l.cfg, o.id));
  p.cgroup = TRY(cgroup::Manager::plan(co, &p.resources));
  // The init's cgroup mounts use these instead of reading /proc/self/cgroup
  // and /proc/self/mountinfo again between clone and exec.
  linux_setup::set_cgroup_dirs(*p.rootfs, co.mount_root, p.cgroup->driver() == cgroup::Driver::V2,
                               p.cgroup->leaf_dirs());
  TRY(linux_setup::open_namespace_paths(p.ns));
  p.console = TRY(connect_console(*l.cfg.process, o));
  if (o.pidfd_socket) {
    auto path = TRY(absolute_path(*o.pidfd_socket));
    p.pidfd_socket = TRY_CTX(sys::connect_unix(path, SOCK_STREAM), "--pidfd-socket");
  }
  return p;
}

// ---- step 4: side effects, under one rollback guard ----

std::string rfc3339_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return spec::rfc3339_utc(ts.tv_sec, ts.tv_nsec);
}

// The live pieces of a create in progress, and how to undo them.
struct Launch {
  Launch(const Context& c, state::ContainerDir d, state::ContainerState s, cgroup::Manager* m)
      : ctx(c), dir(std::move(d)), st(std::move(s)), cg(m) {}
  const Context& ctx;
  state::ContainerDir dir;
  state::ContainerState st;
  cgroup::Manager* cg = nullptr;
  bool cg_made = false;
  sys::UniqueFd fifo;  // O_PATH
  pid_t pid = 0;       // the init
  sys::UniqueFd pidfd;
  pid_t stage_pid = 0;  // the intermediate process, while it lives
  sys::UniqueFd stage_pidfd;
  std::optional<protocol::ParentEnd> channel;  // from the clone on
};

void kill_and_reap(pid_t& pid, sys::UniqueFd& pidfd) {
  if (pid <= 0) return;
  if (pidfd) (void)sys::pidfd_send_signal(pidfd.get(), SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  pid = 0;
  pidfd.reset();
}

void rollback(Launch& l) noexcept {
  kill_and_reap(l.stage_pid, l.stage_pidfd);
  kill_and_reap(l.pid, l.pidfd);
  if (l.cg_made) {
    // Hooks the init forked may still be in the cgroup.
    (void)l.cg->kill_all(SIGKILL);
    auto parents = CgroupParents::lock(l.ctx);
    if (auto s = l.cg->destroy(); !s) l.ctx.warn("rollback: " + s.error().message());
    if (parents) parents->prune(l.ctx, *l.cg);
  }
  if (auto s = l.dir.remove(); !s) l.ctx.warn("rollback: " + s.error().message());
}

// The record create writes once the init is in its cgroups, minus the pid
// and the cgroup (persist_record).
state::ContainerState new_record(const Loaded& l, const CreateOptions& o, const Context& ctx) {
  state::ContainerState st;
  st.oci_version = l.cfg.oci_version;
  st.id = o.id;
  st.phase = state::Phase::Created;
  st.bundle = l.bundle;
  st.rootfs = l.rootfs;
  st.created = rfc3339_now();
  st.annotations = l.cfg.annotations;
  st.systemd_cgroup = ctx.systemd_cgroup;
  st.rootless = linux_setup::rootless(ctx.rootless);
  return st;
}

// A cgroup that already exists (an engine's pod cgroup, a left-over) is
// joined as it is, as under runc. Frozen, it would freeze the init as soon as
// it joins, and create would wait for it forever: refused before any side
// effect, with runc's words. Processes already there are only a warning
// (runc's too): they would share the container's limits and be killed with it.
Status check_existing_cgroup(const Context& ctx, const cgroup::Manager& cg) {
  auto frozen = cg.frozen();
  if (!frozen && frozen.error().kind() != ErrorKind::NotFound) {
    return std::move(frozen).error().wrap("check the container's cgroup");
  }
  if (frozen && *frozen) {
    return Error::make(ErrorKind::BadState, "container's cgroup unexpectedly frozen ({})",
                       cg.path("freezer"));
  }
  auto pids = cg.pids();
  if (pids && !pids->empty()) {
    ctx.warn(fmt::format("container's cgroup is not empty: {} process(es) found", pids->size()));
  }
  return {};
}

Status clone_init(Launch& l, const Loaded& ld, const Plans& p, const CreateOptions& o,
                  protocol::Channel& parent_end) {
  auto [mine, theirs] = TRY(protocol::make_channel_pair());
  linux_setup::InitPlan ip;
  ip.config = &ld.cfg;
  ip.ns = &p.ns;
  ip.rootfs = p.rootfs.get();
  ip.process = p.process.get();
  ip.hooks_round_trip = hooks_round_trip(ld.cfg);
  ip.fifo_fd = l.fifo.get();
  ip.preserve_fds = p.preserve_fds;
  ip.console_socket = p.console ? p.console.get() : -1;
  ip.session_keyring = o.no_new_keyring ? nullptr : o.id.c_str();
  ip.trim_memory = !o.start_follows;
  ip.exec_on_channel = o.start_follows;
  sys::Cloned c;
  {
    auto pidns = TRY(linux_setup::PidNsForChildren::enter(p.ns));
    // The child gets a copy of every stdio buffer; flush so nothing prints twice.
    std::fflush(nullptr);
    c = TRY(sys::clone3_pidfd(p.ns.clone_flags));
    if (c.is_child()) {
      mine.close();
      protocol::InitEnd end(std::move(theirs));
      linux_setup::init_main(end, ip);
    }
  }
  // Only the init may hold its end: our copy would hide its death (no EOF).
  theirs.close();
  l.pid = c.pid;
  l.pidfd = std::move(c.pidfd);
  parent_end = std::move(mine);
  return {};
}

// The intermediate process cloned the real init into the new pid namespace
// (CLONE_PARENT: it is our child) and exits.
Status adopt_forked_init(Launch& l, protocol::ParentEnd& ch) {
  l.stage_pid = l.pid;
  l.stage_pidfd = std::move(l.pidfd);
  l.pid = 0;
  auto forked = TRY(ch.await_init_forked());
  l.pid = forked.pid;
  l.pidfd = std::move(forked.pidfd);
  int status = 0;
  while (::waitpid(l.stage_pid, &status, 0) < 0 && errno == EINTR) {
  }
  l.stage_pid = 0;
  l.stage_pidfd.reset();
  return {};
}

Status run_parent_hooks(Launch& l, const spec::Config& cfg, protocol::ParentEnd& ch,
                        pid_t own_pid) {
  l.st.pid = l.pid;
  std::string state = spec::hook_state_json(l.st, "creating");
  const auto& hk = *cfg.hooks;
  // The spec defines prestart as running once `start` has been called on
  // the created container, though every runtime runs it during create (this
  // is where engines configure the network namespace); its state says
  // "created", as crun's does and as runtime-tools' hooks_stdin checks.
  // createRuntime is part of create proper: "creating".
  if (!hk.prestart.empty()) {
    TRY(hooks::run(hooks::Kind::Prestart, hk.prestart, spec::hook_state_json(l.st, "created")));
  }
  if (!hk.create_runtime.empty()) {
    TRY(hooks::run(hooks::Kind::CreateRuntime, hk.create_runtime, state));
  }
  // Hooks run in the container are told the pid the container sees.
  state::ContainerState inside = l.st;
  inside.pid = own_pid;
  return ch.send_hooks_done(spec::hook_state_json(inside, "creating"),
                            spec::hook_state_json(inside, "created"));
}

// The init's own Error when it sent one that is still unread (it failed
// while building its rootfs before Start: init.cpp, starts_early); else,
// when it closed the socket without one, how it died.
Error explain_death(Launch& l, protocol::ParentEnd& ch, Error e) {
  if (auto own = ch.queued_error()) return std::move(*own);
  if (e.kind() != ErrorKind::Protocol || e.err() != 0 || l.pid <= 0) return e;
  if (!sys::pidfd_wait_exit(l.pidfd.get(), 2000).value_or(false)) return e;
  int status = 0;
  if (::waitpid(l.pid, &status, WNOHANG) != l.pid) return e;
  l.pid = 0;
  l.pidfd.reset();
  if (WIFSIGNALED(status))
    return std::move(e).wrap("container init killed by signal {}", WTERMSIG(status));
  return std::move(e).wrap("container init exited with status {}", WEXITSTATUS(status));
}

// The container's one record: the init's pid and the cgroup directories
// create() made. Written right after Start (after the user namespace's
// mapping and the intermediate step, when there are), while the init builds
// the rest of its rootfs: the parent's time until Start is the critical
// path of a create (init.cpp, starts_early), so the write is not on it. It
// precedes every hook: a create killed during or after them leaves delete
// the pid and the cgroup, and `state` has a record to show while they run
// ("creating" until create releases its mark, state/store.hpp). A create
// killed in the ~1 ms between making its cgroups and this write leaves the
// directory and config.json; delete then finds the cgroups from config.json
// as this create planned them (delete.cpp). One write instead of one per
// step: on a disk-backed root, each new file costs an inode allocation, and
// replacing one by rename a synchronous writeback (ext4's auto_da_alloc).
Status persist_record(Launch& l) {
  auto stat = TRY(sys::read_proc_stat(l.pid));
  l.st.pid = l.pid;
  l.st.pid_start_time = stat.start_time;
  l.st.cgroup = l.cg->serialize();
  return l.dir.write_state(l.st);
}

Status drive_init(Launch& l, const Loaded& ld, const Plans& p, protocol::ParentEnd& ch,
                  CreateTimer& t) {
  TRY(p.cgroup->add_pid(l.pid));
  TRY(linux_setup::set_oom_score_adj(*p.process, l.pid));
  TRY(ch.send_start());
  if (p.ns.new_user) {
    TRY(ch.await_userns_ready());
    TRY(linux_setup::write_id_maps(p.ns, l.pid));
    // Sources only root may reach, opened before the init needs them as the
    // user its root maps to (linux/rootfs.hpp).
    for (auto& src : TRY(linux_setup::open_bind_sources(*p.rootfs, l.pid))) {
      TRY(ch.send_mount_source(src.mount_index, src.fd.get()));
    }
    TRY(ch.send_userns_mapped());
  }
  if (p.ns.intermediate) TRY(adopt_forked_init(l, ch));
  // Mostly the first cgroup.procs write: migrating a task waits for an RCU
  // grace period (cgroup_threadgroup_rwsem taken for writing).
  t.mark("join");
  TRY(persist_record(l));
  t.mark("persist");
  if (hooks_round_trip(ld.cfg)) {
    pid_t own_pid = TRY(ch.await_hooks_request());
    t.mark("rootfs");
    TRY(run_parent_hooks(l, ld.cfg, ch, own_pid));
    t.mark("hooks");
  }
  if (seccomp_notifies(ld.cfg)) {
    auto fd = TRY(ch.await_seccomp_listener());
    TRY(send_to_seccomp_listener(*ld.cfg.linux->seccomp, l.st, "creating", l.pid, fd.get()));
  }
  TRY(ch.await_ready());
  if (hooks_round_trip(ld.cfg)) {
    t.mark("ready");
  } else {
    t.mark("rootfs");
  }
  return {};
}

Status launch(Launch& l, const Loaded& ld, Plans& p, const CreateOptions& o,
              const std::optional<std::string>& pid_file, CreateTimer& t) {
  TRY(l.dir.save_config(ld.bytes));
  // `run` releases the init over the protocol socket instead (protocol.hpp).
  if (!o.start_follows) TRY(l.dir.make_fifo());
  if (host_notify_socket()) TRY(make_notify_dir(l.dir));
  if (!o.start_follows) l.fifo = TRY(l.dir.open_fifo(O_PATH));
  t.mark("state");
  TRY(linux_setup::prepare_idmapped_mounts(*p.rootfs));
  protocol::Channel channel;
  // The init waits for Start (after the cgroup join) before it does anything.
  TRY(clone_init(l, ld, p, o, channel));
  t.mark("clone");
  protocol::ParentEnd& ch = l.channel.emplace(std::move(channel));
  {
    auto parents = TRY(CgroupParents::lock(l.ctx));
    TRY(p.cgroup->create());
    l.cg_made = true;
    TRY(parents.remember(*p.cgroup));
  }
  TRY(p.cgroup->apply(p.resources));
  t.mark("cgroup");
  if (auto s = drive_init(l, ld, p, ch, t); !s) return explain_death(l, ch, std::move(s).error());
  // runc's payload for the init's pidfd is "standard" (exec sends "setns").
  if (p.pidfd_socket) {
    TRY_CTX(sys::send_fd(p.pidfd_socket.get(), "standard", l.pidfd.get()), "--pidfd-socket");
  }
  if (pid_file) TRY(write_pid_file(*pid_file, l.pid));
  return {};
}

}  // namespace

Result<BundleText> read_bundle(const std::string& bundle) {
  BundleText b;
  b.dir = TRY(absolute_path(bundle.empty() ? std::string(".") : bundle));
  auto bytes = sys::read_file(b.dir + "/config.json");
  if (!bytes) {
    if (bytes.error().err() == ENOENT) {
      return Error::make(ErrorKind::NotFound, "JSON specification file config.json not found in {}",
                         b.dir);
    }
    return std::move(bytes).error();
  }
  b.bytes = std::move(*bytes);
  return b;
}

// Symlinks are resolved once here, so every later step works on the same
// directory whatever happens to the link.
Result<std::string> resolve_rootfs(const std::string& bundle, const spec::Root& root) {
  std::string p = root.path[0] == '/' ? root.path : bundle + "/" + root.path;
  char real[PATH_MAX];
  if (::realpath(p.c_str(), real) == nullptr) return Error::last("{}", p).wrap("root.path");
  struct stat st {};
  if (::stat(real, &st) != 0) return Error::last("stat {}", real).wrap("root.path");
  if (!S_ISDIR(st.st_mode)) return Error::spec("root.path: {} is not a directory", real);
  return std::string(real);
}

std::vector<Error> unsupported_features(const spec::Config& cfg) {
  std::vector<Error> out;
  if (!cfg.linux) return out;
  const auto& lx = *cfg.linux;
  auto unsupported = [&out](const char* field) {
    out.push_back(Error::make(ErrorKind::Unsupported, "{}: not supported by husk", field));
  };
  if (lx.intel_rdt) unsupported("linux.intelRdt");
  if (!lx.net_devices.empty()) unsupported("linux.netDevices");
  if (lx.memory_policy) unsupported("linux.memoryPolicy");
  if (lx.personality) unsupported("linux.personality");
  return out;
}

Result<cgroup::Options> cgroup_options(const Context& ctx, const spec::Config& cfg,
                                       const std::string& id) {
  cgroup::Options co;
  const spec::Linux* lx = cfg.linux ? &*cfg.linux : nullptr;
  co.cgroups_path = lx && lx->cgroups_path ? *lx->cgroups_path : std::string();
  co.id = id;
  co.systemd = ctx.systemd_cgroup;
  co.rootless = linux_setup::rootless(ctx.rootless);
  return cgroup::options_from_env(co);
}

Result<CreatedInit> create(const Context& ctx, const CreateOptions& opts) {
  CreateTimer t(ctx);
  TRY(state::validate_id(opts.id));
  int passed_fds = TRY(check_passed_fds(listen_fds(), opts.preserve_fds));
  std::optional<std::string> pid_file;
  if (opts.pid_file) pid_file = TRY(absolute_path(*opts.pid_file));
  Loaded l = TRY(load_bundle(ctx, opts));
  TRY(add_admin_hooks(ctx, l.cfg, l.bytes));
  if (host_notify_socket()) add_notify_mount(l.cfg, ctx.root + "/" + opts.id);
  t.mark("parse");
  Plans p = TRY(make_plans(ctx, l, opts));
  p.preserve_fds = passed_fds;
  TRY(check_existing_cgroup(ctx, *p.cgroup));
  t.mark("plan");
  auto store = TRY(open_store(ctx));
  auto dir = TRY(store.create_container(opts.id));
  Launch launch_state(ctx, std::move(dir), new_record(l, opts, ctx), p.cgroup.get());
  sys::ScopeGuard guard([&launch_state] { rollback(launch_state); });
  TRY(launch(launch_state, l, p, opts, pid_file, t));
  TRY(launch_state.dir.finish_creating());
  guard.dismiss();
  CreatedInit out{launch_state.pid, std::move(launch_state.pidfd), l.cfg.process->terminal, {}};
  if (opts.start_follows) {
    OwnedContainer& oc = out.owned.emplace(OwnedContainer{std::move(launch_state.dir),
                                                          std::move(launch_state.st),
                                                          std::move(p.cgroup),
                                                          std::move(*launch_state.channel),
                                                          {},
                                                          {}});
    if (l.cfg.hooks) {
      oc.poststart = std::move(l.cfg.hooks->poststart);
      oc.poststop = std::move(l.cfg.hooks->poststop);
    }
  }
  return out;
}

}  // namespace husk::lifecycle
