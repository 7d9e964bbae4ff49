#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cli/verbs.hpp"
#include "spec/default_spec.hpp"
#include "sys/fd.hpp"

namespace husk::cli {

namespace {

constexpr OptionSpec kOptions[] = {{"bundle", 'b', true}, {"rootless", 0, false}};

Status write_config(const std::string &dir, const std::string &json) {
  std::string path = dir + "/config.json";
  // O_EXCL: never overwrite a user's config (runc refuses too).
  sys::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
  if (!fd) {
    if (errno == EEXIST)
      return Error::make(ErrorKind::AlreadyExists, "File config.json exists. Remove it first.");
    return Error::last("open {}", path);
  }
  std::string_view rest = json;
  while (!rest.empty()) {
    ssize_t n = ::write(fd.get(), rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::last("write {}", path);
    rest.remove_prefix(static_cast<size_t>(n));
  }
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

}  // namespace

int cmd_spec(const GlobalOptions &g, std::span<const std::string> args) {
  int code = 0;
  VerbSpec v{"spec", "spec [--bundle DIR] [--rootless]", kOptions, 0, 0};
  auto a = parse_verb(g, args, v, &code);
  if (!a) return code;
  std::string dir = a->value("bundle").value_or(".");
  auto st = write_config(dir, spec::default_config_json(a->flag("rootless"), ::geteuid(),
                                                        ::getegid(), host_is_cgroup2()));
  return st ? 0 : report(g, st.error());
}

}  // namespace husk::cli
