// The last step of every container process: the program of process.args
// found (process.env's PATH), checked and executed, and never the husk
// binary itself (CVE-2019-5736).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "linux/process.hpp"
#include "sys/fd.hpp"

namespace husk::linux_setup {

namespace {

// ---- exec ----

Error exec_error(const std::string& name, int err) {
  // Go's errno strings (runc) are lower case; podman matches them by substring.
  std::string msg = std::strerror(err);
  if (!msg.empty()) msg[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(msg[0])));
  return Error(err == ENOENT ? ErrorKind::NotFound : ErrorKind::Sys, 0,
               fmt::format("exec: {:?}: {}", name, msg));
}

bool can_execute(int fd, const struct stat& st) {
  // faccessat2 (5.8) checks X_OK against the current (container) credentials
  // and mount flags such as noexec.
  if (::syscall(SYS_faccessat2, fd, "", X_OK, AT_EMPTY_PATH | AT_EACCESS) == 0) return true;
  if (errno == EACCES || errno == EROFS || errno == ETXTBSY) return false;
  return (st.st_mode & 0111) != 0;
}

// Returns an O_PATH fd of an executable regular file, or -errno; its fstat
// in st, which every later check of this lookup reuses.
int open_executable(const char* path, struct stat& st) {
  int fd = ::open(path, O_PATH | O_CLOEXEC);
  if (fd < 0) return -errno;
  int err = 0;
  if (::fstat(fd, &st) != 0) {
    err = errno;
  } else if (S_ISDIR(st.st_mode)) {
    err = EISDIR;
  } else if (!S_ISREG(st.st_mode) || !can_execute(fd, st)) {
    err = EACCES;  // what execve(2) reports for both
  }
  if (err != 0) {
    ::close(fd);
    return -err;
  }
  return fd;
}

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// Is the file `st` describes (opened from `path`) the runtime binary,
// directly or as the interpreter of a #! script (up to the kernel's 5
// levels)? Executing it would hand the container a process whose
// /proc/self/exe is the host's husk binary, which it could then overwrite
// (CVE-2019-5736). *script: the file starts with "#!".
bool is_runtime_binary(const struct stat& st, const char* path, const FileIdentity& self, int depth,
                       bool* script) {
  if (st.st_dev == self.dev && st.st_ino == self.ino) return true;
  // The kernel only executes regular files; never open devices or FIFOs here.
  if (depth == 0 || !S_ISREG(st.st_mode)) return false;
  // An O_PATH fd cannot be read, and reopening it needs /proc/self/fd, which
  // after pivot_root is the container's: the path is opened again, and must
  // still name the same file.
  sys::UniqueFd rfd(::open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!rfd) return false;  // unreadable: no interpreter can run it either
  struct stat rst {};
  // The path now names another file: someone is racing us; refuse.
  if (::fstat(rfd.get(), &rst) != 0 || !same_file(rst, st)) return true;
  char buf[256];  // BINPRM_BUF_SIZE: the kernel reads no further either
  ssize_t n = ::read(rfd.get(), buf, sizeof buf - 1);
  if (n < 3 || buf[0] != '#' || buf[1] != '!') return false;
  if (script != nullptr) *script = true;
  buf[n] = '\0';
  char* p = buf + 2;
  while (*p == ' ' || *p == '\t') ++p;
  char* end = p;
  while (*end != '\0' && *end != ' ' && *end != '\t' && *end != '\n') ++end;
  *end = '\0';
  if (*p == '\0') return false;
  sys::UniqueFd ifd(::open(p, O_PATH | O_CLOEXEC));
  struct stat ist {};
  if (!ifd || ::fstat(ifd.get(), &ist) != 0) return false;
  return is_runtime_binary(ist, p, self, depth - 1, nullptr);
}

bool is_symlink(const char* path) {
  struct stat st {};
  return ::lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

Status resolve_executable(const ProcessPlan& plan, Executable& exe) {
  const std::string& name = plan.args[0];
  if (!plan.exec_search) {
    int fd = open_executable(plan.exec_candidates[0].c_str(), exe.st);
    if (fd < 0) return exec_error(name, -fd);
    exe.fd = sys::UniqueFd(fd);
    exe.path = &plan.exec_candidates[0];
    exe.link = is_symlink(exe.path->c_str());
    return {};
  }
  // As Go's exec.LookPath (runc): unusable candidates are skipped and the
  // search fails with "not found", whatever the individual errors were.
  for (const auto& c : plan.exec_candidates) {
    int fd = open_executable(c.c_str(), exe.st);
    if (fd >= 0) {
      exe.fd = sys::UniqueFd(fd);
      exe.path = &c;
      exe.link = is_symlink(c.c_str());
      return {};
    }
  }
  return Error::make(ErrorKind::NotFound, "exec: {:?}: executable file not found in $PATH", name);
}

// resolve_executable plus the CVE-2019-5736 refusal.
Status open_checked_executable(const ProcessPlan& plan, Executable& exe) {
  TRY(resolve_executable(plan, exe));
  if (is_runtime_binary(exe.st, exe.path->c_str(), plan.runtime_binary, 5, &exe.script)) {
    return Error::make(
        ErrorKind::Sys,
        "exec: {:?}: operation not permitted: refusing to execute the container runtime binary "
        "(CVE-2019-5736)",
        plan.args[0]);
  }
  return {};
}

}  // namespace

Status check_executable(const ProcessPlan& plan, Executable* keep) {
  Executable exe;
  TRY(open_checked_executable(plan, exe));
  if (keep != nullptr) *keep = std::move(exe);
  return {};
}

Status exec_process(ProcessPlan& plan, Executable* checked) {
  // Unless handed the lookup of check_executable, it is done again: the file
  // (or $PATH's first match) may have changed between create and start, as
  // in runc.
  Executable fresh;
  if (checked == nullptr || !checked->fd) TRY(open_checked_executable(plan, fresh));
  Executable& exe = checked != nullptr && checked->fd ? *checked : fresh;
  // Unless loaded already (before the uid change, or before startContainer
  // hooks): last, so that only execveat (or execve) runs under it.
  TRY(load_late_seccomp(plan));
  int err = ENOENT;
  // A #! script cannot be run from our fd: its interpreter would get
  // /dev/fd/N of an O_CLOEXEC fd, and execveat(2) fails with ENOENT once the
  // kernel has set the interpreter up, so that attempt is skipped. So is a
  // symlink's target: the kernel names the new process (comm) after the
  // basename of execve's path, or for execveat(fd, "", AT_EMPTY_PATH) after
  // the fd's dentry, which is the target's ("busybox" for a requested "sh",
  // where runc and crun show "sh"). Both then go by the path below, checked
  // just before against the inode the lookup refused or accepted.
  if (!exe.script && !exe.link) {
    // execveat on the fd executes exactly the inode checked above.
    ::syscall(SYS_execveat, exe.fd.get(), "", plan.argv.data(), plan.envp.data(), AT_EMPTY_PATH);
    err = errno;
  }
  // A script, a symlink, or ENOSYS/EPERM: execveat denied by the filter.
  // Fall back to the path, provided it still names the checked file.
  if (err == ENOENT || err == ENOSYS || err == EPERM) {
    struct stat again_st {};
    sys::UniqueFd again(::open(exe.path->c_str(), O_PATH | O_CLOEXEC));
    if (again && ::fstat(again.get(), &again_st) == 0 && same_file(exe.st, again_st)) {
      ::execve(exe.path->c_str(), plan.argv.data(), plan.envp.data());
      err = errno;
    }
  }
  return exec_error(plan.args[0], err);
}

}  // namespace husk::linux_setup
