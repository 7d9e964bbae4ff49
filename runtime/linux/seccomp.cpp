#include "linux/seccomp.hpp"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

#include "spec/names.hpp"
#include "sys/fd.hpp"
#include "sys/file.hpp"

namespace husk::linux_setup {
namespace {

constexpr uint32_t kWaitKillableRecv = 1U << 5;  // SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV

// ---- validated form ----

struct Rule {
  size_t index;  // into linux.seccomp.syscalls, for messages
  uint32_t action;
  std::vector<scmp_arg_cmp> args;
};

struct Validated {
  uint32_t default_action = 0;
  std::vector<uint32_t> arches;  // SCMP_ARCH_* tokens known to libseccomp
  std::vector<Rule> rules;
  unsigned int flags = 0;
  bool notify = false;  // some rule is SCMP_ACT_NOTIFY
};

Result<uint32_t> resolve_action(const std::string& name, const std::optional<uint32_t>& errno_ret,
                                const std::string& field) {
  auto a = spec::seccomp_action_from_name(name);
  if (!a) return Error::spec("{}: unknown action {:?}", field, name);
  // The kernel's SECCOMP_RET_* values are libseccomp's SCMP_ACT_* values.
  uint32_t ret = spec::seccomp_action_ret(*a);
  if (!spec::seccomp_action_takes_errno(*a)) {
    if (errno_ret) {
      return Error::spec("{}: errnoRet is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not {}",
                         field, name);
    }
    return ret;
  }
  // The return data is 16 bits (SECCOMP_RET_DATA); EPERM is the spec's default.
  uint32_t e = errno_ret.value_or(EPERM);
  if (e > SECCOMP_RET_DATA) return Error::spec("{}: errnoRet {} does not fit in 16 bits", field, e);
  return ret | e;
}

Result<std::vector<scmp_arg_cmp>> resolve_args(const std::vector<spec::SeccompArg>& args,
                                               const std::string& field) {
  std::vector<scmp_arg_cmp> out;
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    // seccomp_data carries six syscall arguments.
    if (a.index >= spec::kSeccompMaxArgs)
      return Error::spec("{}.args[{}].index: {} is not in 0..5", field, i, a.index);
    auto op = spec::seccomp_op_from_name(a.op);
    if (!op) return Error::spec("{}.args[{}].op: unknown operator {:?}", field, i, a.op);
    // For MASKED_EQ, value is the mask and valueTwo the expected result.
    // spec::SeccompOp is numbered as libseccomp's enum scmp_compare.
    out.push_back(scmp_arg_cmp{a.index, static_cast<scmp_compare>(*op), a.value, a.value_two});
  }
  return out;
}

Result<unsigned int> resolve_flags(const std::vector<std::string>& flags, bool notify,
                                   std::vector<std::string>& warnings) {
  unsigned int bits = 0;
  for (const auto& f : flags) {
    auto bit = spec::seccomp_flag_from_name(f);
    if (!bit)
      return Error::make(ErrorKind::Unsupported, "linux.seccomp.flags: unsupported flag {:?}", f);
    bits |= *bit;
  }
  if (notify) {
    bits |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    // TSYNC reports a thread it could not sync by returning its tid, which
    // is ambiguous with NEW_LISTENER's fd: the kernel takes the two together
    // only with TSYNC_ESRCH, which reports that case as ESRCH instead.
    if ((bits & SECCOMP_FILTER_FLAG_TSYNC) != 0) bits |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
    return bits;
  }
  // WAIT_KILLABLE_RECV only changes how a notifying task waits for the
  // listener; without NEW_LISTENER (no SCMP_ACT_NOTIFY rule) the kernel
  // rejects it with EINVAL.
  if ((bits & kWaitKillableRecv) != 0) {
    warnings.emplace_back(
        "linux.seccomp.flags: ignoring SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, it only applies to "
        "SCMP_ACT_NOTIFY");
    bits &= ~kWaitKillableRecv;
  }
  return bits;
}

Result<std::vector<uint32_t>> resolve_arches(const std::vector<std::string>& arches,
                                             std::vector<std::string>& warnings) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < arches.size(); ++i) {
    const std::string& name = arches[i];
    auto token = spec::seccomp_arch_from_name(name);
    if (!token) {
      return Error::spec("linux.seccomp.architectures[{}]: unknown architecture {:?}", i, name);
    }
    // An older libseccomp does not know every architecture of the spec; its
    // name for one is the suffix in lower case ("SCMP_ARCH_PPC64LE" -> "ppc64le").
    std::string_view suffix = std::string_view(name).substr(10);
    std::string lower(suffix);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (seccomp_arch_resolve_name(lower.c_str()) != *token) {
      warnings.push_back(fmt::format(
          "linux.seccomp.architectures[{}]: ignoring {}, unknown to libseccomp {}.{}.{}", i, name,
          seccomp_version()->major, seccomp_version()->minor, seccomp_version()->micro));
      continue;
    }
    out.push_back(*token);
  }
  return out;
}

Result<Validated> validate(const spec::Seccomp& sc, std::vector<std::string>& warnings) {
  Validated v;
  if (sc.default_errno_ret && sc.default_action != "SCMP_ACT_ERRNO" &&
      sc.default_action != "SCMP_ACT_TRACE") {
    return Error::spec(
        "linux.seccomp.defaultErrnoRet: only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not {}",
        sc.default_action);
  }
  v.default_action =
      TRY(resolve_action(sc.default_action, sc.default_errno_ret, "linux.seccomp.defaultAction"));
  v.arches = TRY(resolve_arches(sc.architectures, warnings));
  for (size_t i = 0; i < sc.syscalls.size(); ++i) {
    const auto& s = sc.syscalls[i];
    std::string field = fmt::format("linux.seccomp.syscalls[{}]", i);
    if (s.names.empty()) return Error::spec("{}.names: must not be empty", field);
    Rule r{i, TRY(resolve_action(s.action, s.errno_ret, field + ".action")), {}};
    r.args = TRY(resolve_args(s.args, field));
    v.notify = v.notify || r.action == SCMP_ACT_NOTIFY;
    v.rules.push_back(std::move(r));
  }
  // spec/validate.cpp checked what NOTIFY needs: a listenerPath, a default
  // that is not NOTIFY, and none on the syscalls that hand the fd over.
  v.flags = TRY(resolve_flags(sc.flags, v.notify, warnings));
  return v;
}

std::string canonical(const spec::Seccomp& sc, const Validated& v, bool binary_tree) {
  const scmp_version* ver = seccomp_version();
  std::string out = fmt::format(
      "husk-seccomp 3\nlibseccomp {}.{}.{} api {} native {:#x}\nlayout {}\ndefault {:#x}\n",
      ver->major, ver->minor, ver->micro, seccomp_api_get(), seccomp_arch_native(),
      binary_tree ? "tree" : "linear", v.default_action);
  for (uint32_t a : v.arches) out += fmt::format("arch {:#x}\n", a);
  for (const auto& r : v.rules) {
    out += fmt::format("rule {:#x}", r.action);
    // Length-prefixed so that no name can forge a field boundary.
    for (const auto& n : sc.syscalls[r.index].names) out += fmt::format(" {}:{}", n.size(), n);
    for (const auto& a : r.args)
      out +=
          fmt::format(" ({} {} {:#x} {:#x})", a.arg, static_cast<int>(a.op), a.datum_a, a.datum_b);
    out += '\n';
  }
  return out;
}

// ---- compile ----

using FilterCtx = std::unique_ptr<void, decltype(&seccomp_release)>;

bool has_repeated_index(const std::vector<scmp_arg_cmp>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    for (size_t j = i + 1; j < args.size(); ++j) {
      if (args[i].arg == args[j].arg) return true;
    }
  }
  return false;
}

Status add_rule(scmp_filter_ctx ctx, const Rule& r, int nr, const std::string& name) {
  // libseccomp cannot AND two comparisons on the same argument (EINVAL), so
  // such conditions become one rule each (OR), as runc does.
  int rc = 0;
  if (has_repeated_index(r.args)) {
    for (const auto& a : r.args) {
      rc = seccomp_rule_add_array(ctx, r.action, nr, 1, &a);
      if (rc < 0) break;
    }
  } else {
    rc = seccomp_rule_add_array(ctx, r.action, nr, static_cast<unsigned int>(r.args.size()),
                                r.args.data());
  }
  if (rc < 0) return Error::sys(-rc, "linux.seccomp.syscalls[{}]: add rule for {}", r.index, name);
  return {};
}

Result<std::vector<sock_filter>> export_bpf(scmp_filter_ctx ctx) {
  sys::UniqueFd fd(::memfd_create("husk-seccomp", MFD_CLOEXEC));
  if (!fd) return Error::last("memfd_create");
  int rc = seccomp_export_bpf(ctx, fd.get());
  if (rc < 0) return Error::sys(-rc, "seccomp_export_bpf");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Error::last("fstat memfd");
  auto size = static_cast<size_t>(st.st_size);
  if (size == 0 || size % sizeof(sock_filter) != 0) {
    return Error::make(ErrorKind::Sys, "seccomp_export_bpf: unexpected program size {}", size);
  }
  std::vector<sock_filter> insns(size / sizeof(sock_filter));
  ssize_t n = ::pread(fd.get(), insns.data(), size, 0);
  if (n != static_cast<ssize_t>(size)) return Error::last("read exported seccomp program");
  return insns;
}

// ---- ENOSYS for syscalls newer than the profile ----
//
// A profile names the syscalls its author knew. One newer than all of them
// (clone3, close_range, openat2 ... under a profile from before they
// existed) would get the default action, typically EPERM, and EPERM tells
// libc the call exists but is refused: glibc falls back from clone3 to
// clone only on ENOSYS. So, as runc does, any syscall number above the
// highest the profile names for its architecture returns ENOSYS, the
// answer of a kernel that predates it. A short program in front of
// libseccomp's does this; the default action applies below that number.

constexpr uint32_t kX32SyscallBit = 0x40000000;  // __X32_SYSCALL_BIT

// The highest number libseccomp resolves for any name of the profile on
// `arch` (x32's numbers carry kX32SyscallBit); -1 if none.
int64_t highest_syscall(const spec::Seccomp& sc, uint32_t arch) {
  int64_t top = -1;
  for (const auto& s : sc.syscalls) {
    for (const auto& name : s.names) {
      int nr = seccomp_syscall_resolve_name_arch(arch, name.c_str());
      if (nr >= 0) top = std::max<int64_t>(top, nr);
    }
  }
  return top;
}

sock_filter stmt(uint16_t code, uint32_t k) { return sock_filter{code, 0, 0, k}; }
sock_filter jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) {
  return sock_filter{code, jt, jf, k};
}

// The highest syscall number the profile names, per audit architecture.
struct Limit {
  uint32_t audit_arch;
  int64_t top, top_x32;  // -1: no limit (the profile names nothing there)
};

// x86-64 and x32 share AUDIT_ARCH_X86_64: x32's limit goes with it.
std::vector<Limit> arch_limits(const spec::Seccomp& sc, const Validated& v) {
  std::vector<uint32_t> arches = v.arches;
  if (std::find(arches.begin(), arches.end(), seccomp_arch_native()) == arches.end())
    arches.push_back(seccomp_arch_native());
  std::vector<Limit> limits;
  int64_t x32_top = -1;
  for (uint32_t a : arches) {
    if (a == SCMP_ARCH_X32) {
      x32_top = highest_syscall(sc, a);
      continue;
    }
    limits.push_back(Limit{a, highest_syscall(sc, a), -1});
  }
  if (x32_top >= 0) {
    auto it = std::find_if(limits.begin(), limits.end(),
                           [](const Limit& l) { return l.audit_arch == SCMP_ARCH_X86_64; });
    if (it == limits.end()) {
      limits.push_back(Limit{SCMP_ARCH_X86_64, -1, x32_top});
    } else {
      it->top_x32 = x32_top;
    }
  }
  std::erase_if(limits, [](const Limit& l) { return l.top < 0 && l.top_x32 < 0; });
  return limits;
}

// Jump targets not known while a block is built, encoded by link_stub.
constexpr uint32_t kTail = 0xffffffff;  // placeholder: "to the profile"
constexpr uint8_t kEnosys = 0xff;       // placeholder: "to return ENOSYS"

// One architecture's block: load the syscall number; above the limit, to
// "return ENOSYS"; otherwise on to the profile. x86-64 and x32 are told
// apart by the x32 bit.
std::vector<sock_filter> limit_block(const Limit& l) {
  std::vector<sock_filter> b;
  b.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
  if (l.audit_arch == SCMP_ARCH_X86_64) {
    // nr >= x32 bit: an x32 call.
    bool x32 = l.top_x32 >= 0;
    b.push_back(jump(BPF_JMP | BPF_JGE | BPF_K, kX32SyscallBit, 0, 0));
    size_t branch = b.size() - 1;
    if (l.top >= 0) b.push_back(jump(BPF_JMP | BPF_JGT | BPF_K, l.top, kEnosys, 0));
    b.push_back(stmt(BPF_JMP | BPF_JA, kTail));
    b[branch].jt = static_cast<uint8_t>(b.size() - branch - 1);
    if (x32) b.push_back(jump(BPF_JMP | BPF_JGT | BPF_K, l.top_x32, kEnosys, 0));
    b.push_back(stmt(BPF_JMP | BPF_JA, kTail));
  } else {
    b.push_back(jump(BPF_JMP | BPF_JGT | BPF_K, l.top, kEnosys, 0));
    b.push_back(stmt(BPF_JMP | BPF_JA, kTail));
  }
  return b;
}

// The stub, to be followed directly by the profile's program. Per
// architecture: load the syscall number; above the profile's highest,
// return ENOSYS; otherwise fall through to the profile.
std::vector<sock_filter> enosys_stub(const spec::Seccomp& sc, const Validated& v) {
  std::vector<Limit> limits = arch_limits(sc, v);
  if (limits.empty()) return {};
  // Layout: the arch dispatch, one block per arch, then "return ENOSYS";
  // every block ends by jumping past that return, into the profile. Jumps
  // are encoded once every block's length is known.
  std::vector<sock_filter> out;
  out.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)));
  size_t dispatch = out.size();
  for (const auto& l : limits) out.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, l.audit_arch, 0, 0));
  out.push_back(stmt(BPF_JMP | BPF_JA, kTail));  // an arch without a limit
  std::vector<size_t> starts;
  for (const auto& l : limits) {
    starts.push_back(out.size());
    auto b = limit_block(l);
    out.insert(out.end(), b.begin(), b.end());
  }
  size_t enosys = out.size();
  out.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)));
  size_t tail = out.size();
  for (size_t i = 0; i < limits.size(); ++i) {
    out[dispatch + i].jt = static_cast<uint8_t>(starts[i] - (dispatch + i) - 1);
  }
  for (size_t i = 0; i < out.size(); ++i) {
    sock_filter& f = out[i];
    if (BPF_CLASS(f.code) != BPF_JMP) continue;
    if (BPF_OP(f.code) == BPF_JA) {
      if (f.k == kTail) f.k = static_cast<uint32_t>(tail - i - 1);
    } else if (i >= starts.front() && f.jt == kEnosys) {
      f.jt = static_cast<uint8_t>(enosys - i - 1);
    }
  }
  return out;
}

Result<std::vector<sock_filter>> compile(const spec::Seccomp& sc, const Validated& v,
                                         bool binary_tree) {
  FilterCtx ctx(seccomp_init(v.default_action), &seccomp_release);
  if (!ctx) return Error::make(ErrorKind::Sys, "seccomp_init({:#x}) failed", v.default_action);
  // By default libseccomp emits one compare per syscall in a list, each
  // match jumping to its action near the end. Loading that into the kernel
  // (seccomp(2) converts classic BPF and JIT-compiles it) cost ~0.66 ms for
  // podman's profile here: long forward jumps make the x86 JIT repeat its
  // passes until the jump encodings settle. The binary tree is ~25% more
  // instructions but short jumps: ~0.23 ms, and a lookup of O(log n)
  // compares at every syscall instead of O(n). Same decisions (libseccomp
  // builds both from the same rule set; seccomp_compile_test checks it).
  // It ignores syscall priorities, which husk never sets.
  if (binary_tree) {
    int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if (rc < 0) return Error::sys(-rc, "seccomp_attr_set(SCMP_FLTATR_CTL_OPTIMIZE, 2)");
  }
  for (uint32_t a : v.arches) {
    int rc = seccomp_arch_add(ctx.get(), a);
    if (rc < 0 && rc != -EEXIST) return Error::sys(-rc, "seccomp_arch_add({:#x})", a);
  }
  for (const auto& r : v.rules) {
    // libseccomp refuses a rule whose action equals the default (EACCES);
    // it would be a no-op anyway.
    if (r.action == v.default_action) continue;
    for (const auto& name : sc.syscalls[r.index].names) {
      int nr = seccomp_syscall_resolve_name(name.c_str());
      // Unknown to this libseccomp or arch: ignored, as runc does, so one
      // profile serves several kernels and architectures (seccomp_knows_syscall).
      if (nr == __NR_SCMP_ERROR) continue;
      TRY(add_rule(ctx.get(), r, nr, name));
    }
  }
  std::vector<sock_filter> profile = TRY(export_bpf(ctx.get()));
  // An allowing default lets a new syscall through to the kernel, which
  // answers ENOSYS itself if it does not have it.
  uint32_t dflt = v.default_action & SECCOMP_RET_ACTION_FULL;
  if (dflt == SECCOMP_RET_ALLOW || dflt == SECCOMP_RET_LOG) return profile;
  std::vector<sock_filter> prog = enosys_stub(sc, v);
  prog.insert(prog.end(), profile.begin(), profile.end());
  return prog;
}

// ---- cache: "<dir>/<fnv1a64 hex>.bpf" ----
// Layout: "HUSKBPF1", u32 canonical length, canonical form, u32 insn count,
// insns. The full canonical form is stored and compared, so a hash
// collision or a torn file can only cause a recompile.

constexpr std::string_view kMagic = "HUSKBPF1";
constexpr size_t kMaxCacheFile = 1U << 20;

// A cache entry is a regular file of at most kMaxCacheFile bytes.
std::optional<std::string> read_cache_file(const std::string& path) {
  sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  struct stat st {};
  if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<size_t>(st.st_size) > kMaxCacheFile)
    return std::nullopt;
  auto data = sys::read_all(fd.get(), path);
  if (!data) return std::nullopt;
  return std::move(*data);
}

std::optional<std::vector<sock_filter>> cache_load(const std::string& path,
                                                   const std::string& canon) {
  auto data = read_cache_file(path);
  if (!data) return std::nullopt;
  std::string_view rest = *data;
  auto take_u32 = [&rest](uint32_t& v) {
    if (rest.size() < sizeof v) return false;
    std::memcpy(&v, rest.data(), sizeof v);
    rest.remove_prefix(sizeof v);
    return true;
  };
  uint32_t len = 0;
  uint32_t count = 0;
  if (rest.substr(0, kMagic.size()) != kMagic) return std::nullopt;
  rest.remove_prefix(kMagic.size());
  if (!take_u32(len) || rest.size() < len || rest.substr(0, len) != canon) return std::nullopt;
  rest.remove_prefix(len);
  if (!take_u32(count) || count == 0 || rest.size() != count * sizeof(sock_filter))
    return std::nullopt;
  std::vector<sock_filter> insns(count);
  std::memcpy(insns.data(), rest.data(), rest.size());
  return insns;
}

// Best effort: a cache that cannot be written only costs compile time.
void cache_store(const std::string& dir, const std::string& path, const std::string& canon,
                 const std::vector<sock_filter>& insns) {
  // Every missing level, the last one private: only its owner may plant a
  // program there that a later container would load.
  for (size_t slash = dir.find('/', 1); slash != std::string::npos;
       slash = dir.find('/', slash + 1)) {
    if (::mkdir(dir.substr(0, slash).c_str(), 0755) != 0 && errno != EEXIST) return;
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return;
  std::string data(kMagic);
  auto put_u32 = [&data](uint32_t v) { data.append(reinterpret_cast<const char*>(&v), sizeof v); };
  put_u32(static_cast<uint32_t>(canon.size()));
  data += canon;
  put_u32(static_cast<uint32_t>(insns.size()));
  data.append(reinterpret_cast<const char*>(insns.data()), insns.size() * sizeof(sock_filter));
  // Write-then-rename: concurrent creates never read a partial file.
  std::string tmp = fmt::format("{}.{}.tmp", path, ::getpid());
  sys::UniqueFd fd(
      ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return;
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  fd.reset();
  if (off != data.size() || ::rename(tmp.c_str(), path.c_str()) != 0) ::unlink(tmp.c_str());
}

}  // namespace

bool seccomp_knows_syscall(const std::string& name) {
  return seccomp_syscall_resolve_name(name.c_str()) != __NR_SCMP_ERROR;
}

uint64_t fnv1a64(std::string_view data) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string seccomp_canonical_form(const spec::Seccomp& sc, bool binary_tree) {
  std::vector<std::string> warnings;
  auto v = validate(sc, warnings);
  return v ? canonical(sc, *v, binary_tree) : std::string();
}

Result<SeccompProgram> compile_seccomp(const spec::Seccomp& sc, const SeccompOptions& opts,
                                       std::vector<std::string>& warnings) {
  Validated v = TRY(validate(sc, warnings));
  SeccompProgram prog;
  prog.flags = v.flags;
  prog.notify = v.notify;
  std::string canon;
  std::string path;
  if (!opts.cache_dir.empty()) {
    canon = canonical(sc, v, opts.binary_tree);
    path = fmt::format("{}/{:016x}.bpf", opts.cache_dir, fnv1a64(canon));
    if (auto hit = cache_load(path, canon)) {
      prog.insns = std::move(*hit);
      prog.from_cache = true;
    }
  }
  if (!prog.from_cache) {
    prog.insns = TRY_CTX(compile(sc, v, opts.binary_tree), "compile linux.seccomp");
    if (!path.empty()) cache_store(opts.cache_dir, path, canon, prog.insns);
  }
  // sock_fprog.len is 16 bits and the kernel caps programs at BPF_MAXINSNS.
  if (prog.insns.size() > BPF_MAXINSNS) {
    return Error::spec(
        "linux.seccomp: the compiled filter has {} instructions, the kernel accepts at most {}",
        prog.insns.size(), BPF_MAXINSNS);
  }
  return prog;
}

Status load_seccomp(const SeccompProgram& prog, const ListenerSink& sink) {
  if (prog.notify && !sink) {
    return Error::make(ErrorKind::Unsupported,
                       "SCMP_ACT_NOTIFY: no way to hand the notification fd to listenerPath here");
  }
  sock_fprog fprog{static_cast<unsigned short>(prog.insns.size()),
                   const_cast<sock_filter*>(prog.insns.data())};
  // With NEW_LISTENER the result is the notification fd (close-on-exec), else 0.
  long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, prog.flags, &fprog);
  if (rc < 0) {
    return Error::last("seccomp(SECCOMP_SET_MODE_FILTER, flags={:#x}, {} instructions)", prog.flags,
                       prog.insns.size());
  }
  if (!prog.notify) return {};
  sys::UniqueFd listener(static_cast<int>(rc));
  TRY_CTX(sink(listener.get()), "hand the seccomp notification fd over");
  return {};
}

}  // namespace husk::linux_setup
