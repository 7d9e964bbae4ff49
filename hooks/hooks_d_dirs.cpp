// hooks.d directories: which files count, which copy of a name wins, and
// reading them.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <memory>

#include "hooks/hooks_d.hpp"
#include "sys/fd.hpp"

namespace husk::hooks {

namespace {

constexpr std::string_view kSuffix = ".yaml";

// *.yaml, not a dot file (editors' and package managers' temporaries).
bool is_hook_file(std::string_view n) {
  return n.size() > kSuffix.size() && n[0] != '.' && n.ends_with(kSuffix);
}

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

// The hook files of one directory into `by_name` (name -> path), replacing
// earlier directories' entries of the same name.
Status list_dir(const std::string& dir, bool missing_ok,
                std::map<std::string, std::string>& by_name) {
  sys::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT && missing_ok) return {};
    return Error::last("open hooks directory {}", dir);
  }
  std::unique_ptr<DIR, DirCloser> d(::fdopendir(fd.get()));
  if (!d) return Error::last("fdopendir {}", dir);
  fd.release();  // closedir closes it
  errno = 0;
  while (const dirent* e = ::readdir(d.get())) {
    if (is_hook_file(e->d_name)) by_name[e->d_name] = dir + "/" + e->d_name;
    errno = 0;
  }
  if (errno != 0) return Error::last("read hooks directory {}", dir);
  return {};
}

Result<std::string> read_hook_file(const std::string& path) {
  sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Error::last("open hooks.d file {}", path);
  // An admin's hook description is a few hundred bytes; a file this large
  // is a mistake (or a device), not something to load into memory.
  constexpr size_t kMaxSize = 1 << 20;
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::last("read hooks.d file {}", path);
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > kMaxSize) {
      return Error::spec("hooks.d file {}: larger than {} bytes", path, kMaxSize);
    }
  }
}

}  // namespace

std::vector<std::string> default_hooks_dirs() {
  return {"/usr/share/husk/hooks.d", "/etc/husk/hooks.d"};
}

Result<std::vector<HookFile>> load_hooks_d(std::span<const std::string> dirs, bool missing_ok) {
  std::map<std::string, std::string> by_name;  // std::map: sorted by name, byte order
  for (const auto& dir : dirs) TRY(list_dir(dir, missing_ok, by_name));
  std::vector<HookFile> files;
  for (const auto& [name, path] : by_name) {
    std::string text = TRY(read_hook_file(path));
    files.push_back(TRY(parse_hooks_d(text, path)));
  }
  return files;
}

}  // namespace husk::hooks
