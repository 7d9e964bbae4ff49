// husk spec [--bundle DIR] [--rootless]
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cli/verbs.hpp"
#include "spec/default_spec.hpp"
#include "sys/fd.hpp"

namespace husk::cli {

namespace {

constexpr OptionSpec kOptions[] = {
    value_option("bundle", 'b', "DIR",
                 "write config.json into DIR (default: the current directory)"),
    bool_option("rootless", 0, "make a configuration an unprivileged user can run"),
};

Status write_config(const std::string &dir, const std::string &json) {
  std::string path = dir + "/config.json";
  // O_EXCL: never overwrite a user's config (runc refuses too).
  sys::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
  if (!fd) {
    if (errno == EEXIST)
      return Error::make(ErrorKind::AlreadyExists, "File config.json exists. Remove it first.");
    return Error::last("open {}", path);
  }
  TRY_CTX(write_all(fd.get(), json), "{}", path);
  return {};
}

// runc's test for adding a cgroup namespace to its example spec: the host is
// cgroup v2 only, i.e. /sys/fs/cgroup itself is a cgroup2 mount. On a v1 or
// hybrid host (a tmpfs of v1 hierarchies there) its spec has none.
bool host_is_cgroup2() {
  struct statfs st {};
  return ::statfs("/sys/fs/cgroup", &st) == 0 &&
         static_cast<long>(st.f_type) == static_cast<long>(CGROUP2_SUPER_MAGIC);
}

int write_spec(const GlobalOptions &g, const ParsedArgs &a) {
  std::string dir = a.value("bundle").value_or(".");
  auto st = write_config(dir, spec::default_config_json(a.flag("rootless"), ::geteuid(),
                                                        ::getegid(), host_is_cgroup2()));
  return st ? 0 : report(g, st.error());
}

}  // namespace

const Command kSpecCommand{
    .name = "spec",
    .summary = "write a starting config.json",
    .usage = "spec [command options]",
    .description =
        "Writes a config.json for a bundle: a shell (sh) in a terminal, a read-only rootfs "
        "directory named rootfs, the usual namespaces, mounts and capabilities. An existing "
        "config.json is never overwritten.\n"
        "\n"
        "With --rootless the configuration adds a user namespace mapping the caller's uid "
        "and gid to root, and leaves out what an unprivileged user cannot set up.",
    .examples =
        "# Start a bundle for an unprivileged user:\n"
        "mkdir -p ~/c1/rootfs && husk spec --rootless --bundle ~/c1",
    .options = kOptions,
    .min_args = 0,
    .max_args = 0,
    .operand = Operand::None,
    .run = write_spec,
};

}  // namespace husk::cli
