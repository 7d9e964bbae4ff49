// linux.seccomp: actions, errno values, operators, architectures, flags,
// and the notify listener. Syscall names are resolved (and unknown ones
// skipped) when the filter is compiled, with libseccomp, outside spec/.
#include <fmt/format.h>

#include <algorithm>
#include <string_view>

#include "spec/names.hpp"
#include "spec/validate.hpp"
#include "spec/validate_internal.hpp"

namespace husk::spec::validation {
namespace {

// SECCOMP_RET_DATA is 16 bits wide; a larger errnoRet would be truncated.
constexpr uint32_t kMaxSeccompErrno = 0xffff;

Result<SeccompAction> check_action(std::string_view name, std::optional<uint32_t> errno_ret,
                                   const std::string& path, std::string_view errno_key) {
  auto a = seccomp_action_from_name(name);
  if (!a) return Error::spec("{}: unknown action \"{}\"", path, name);
  if (errno_ret && !seccomp_action_takes_errno(*a)) {
    return Error::spec("{}: {} only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not {}", path,
                       errno_key, name);
  }
  if (errno_ret && *errno_ret > kMaxSeccompErrno) {
    return Error::spec("{}: {} must be <= {}, got {}", path, errno_key, kMaxSeccompErrno,
                       *errno_ret);
  }
  return *a;
}

Status check_arg(const SeccompArg& arg, const std::string& apath) {
  if (arg.index >= kSeccompMaxArgs) {
    return Error::spec("{}.index: must be < {}, got {}", apath, kSeccompMaxArgs, arg.index);
  }
  if (!seccomp_op_from_name(arg.op)) {
    return Error::spec("{}.op: unknown operator \"{}\"", apath, arg.op);
  }
  return {};
}

// The syscalls the container's init makes between loading a NOTIFY filter
// and handing its fd over (linux/seccomp.hpp, ListenerSink): notified, they
// would wait for an agent that cannot have the fd yet, and create would hang.
// sendmsg carries the fd to husk; write is refused as by runc (profiles runc
// refuses are refused here too), and the init reports a late failure with it.
constexpr std::string_view kNeverNotified[] = {"sendmsg", "write"};

void check_syscall(Checker& ck, const SeccompSyscall& s, const std::string& path, bool& notify) {
  auto a = check_action(s.action, s.errno_ret, path + ".action", "errnoRet");
  if (a) {
    notify = notify || *a == SeccompAction::Notify;
  } else {
    ck.take(a.error());
  }
  for (size_t j = 0; j < s.names.size(); ++j) {
    if (s.names[j].empty()) ck.take(Error::spec("{}.names[{}]: must not be empty", path, j));
    if (a && *a == SeccompAction::Notify &&
        std::ranges::find(kNeverNotified, s.names[j]) != std::end(kNeverNotified)) {
      ck.take(
          Error::spec("{}.names[{}]: SCMP_ACT_NOTIFY cannot be used for {}: husk needs it to "
                      "hand the notification fd over",
                      path, j, s.names[j]));
    }
  }
  for (size_t j = 0; j < s.args.size(); ++j) {
    ck.take(check_arg(s.args[j], idx(path + ".args", j)));
  }
}

void check_seccomp_lists(Checker& ck, const Seccomp& s) {
  for (size_t i = 0; i < s.architectures.size(); ++i) {
    if (!seccomp_arch_from_name(s.architectures[i])) {
      ck.take(Error::spec("linux.seccomp.architectures[{}]: unknown architecture \"{}\"", i,
                          s.architectures[i]));
    }
  }
  for (size_t i = 0; i < s.flags.size(); ++i) {
    if (!seccomp_flag_from_name(s.flags[i])) {
      ck.take(Error::spec("linux.seccomp.flags[{}]: unknown flag \"{}\"", i, s.flags[i]));
    }
  }
}

}  // namespace

void check_seccomp(Checker& ck, const Seccomp& s) {
  auto def = check_action(s.default_action, s.default_errno_ret, "linux.seccomp.defaultAction",
                          "defaultErrnoRet");
  // The notify fd is handed out only once the filter is loaded; making
  // every syscall wait on it would block the runtime's own exec.
  if (!def) {
    ck.take(def.error());
  } else if (*def == SeccompAction::Notify) {
    ck.take(Error::spec("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default"));
  }
  check_seccomp_lists(ck, s);
  bool notify = false;
  for (size_t i = 0; i < s.syscalls.size(); ++i) {
    check_syscall(ck, s.syscalls[i], idx("linux.seccomp.syscalls", i), notify);
  }
  const bool listener = s.listener_path && !s.listener_path->empty();
  if (notify && !listener) {
    ck.take(Error::spec("linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used"));
  }
  if (s.listener_metadata && !listener) {
    ck.take(Error::spec("linux.seccomp.listenerMetadata: must not be set without listenerPath"));
  }
  if (listener) ck.take(require_abs(*s.listener_path, "linux.seccomp.listenerPath"));
}

}  // namespace husk::spec::validation
