#include "spec/mount_options.hpp"

#include <sys/mount.h>

#include <algorithm>
#include <array>
#include <iterator>

namespace husk::spec {
namespace {

enum class Kind : unsigned char {
  Set,          // MS_* flag on
  Clear,        // MS_* flag off
  Propagation,  // MS_SHARED ... (| MS_REC)
  AttrSet,      // MOUNT_ATTR_* on, recursively
  AttrClear,    // MOUNT_ATTR_* off, recursively
  Atime,        // recursive access-time mode
  Bind,
  Rbind,
  Idmap,
  Ridmap,
  Tmpcopyup,
  Nothing,  // "defaults"
};

struct Option {
  std::string_view name;
  Kind kind;
  uint64_t value;
};

// Recursive atime options select one of the kernel's three modes:
// "ratime"/"rnostrictatime" drop noatime/strictatime and fall back to the
// kernel default, relatime; "rnorelatime" asks for full atime updates.
constexpr Option kOptions[] = {
    {"async", Kind::Clear, MS_SYNCHRONOUS},
    {"atime", Kind::Clear, MS_NOATIME},
    {"bind", Kind::Bind, 0},
    {"defaults", Kind::Nothing, 0},
    {"dev", Kind::Clear, MS_NODEV},
    {"diratime", Kind::Clear, MS_NODIRATIME},
    {"dirsync", Kind::Set, MS_DIRSYNC},
    {"exec", Kind::Clear, MS_NOEXEC},
    {"idmap", Kind::Idmap, 0},
    {"iversion", Kind::Set, MS_I_VERSION},
    {"lazytime", Kind::Set, MS_LAZYTIME},
    {"loud", Kind::Clear, MS_SILENT},
    {"mand", Kind::Set, MS_MANDLOCK},
    {"noatime", Kind::Set, MS_NOATIME},
    {"nodev", Kind::Set, MS_NODEV},
    {"nodiratime", Kind::Set, MS_NODIRATIME},
    {"noexec", Kind::Set, MS_NOEXEC},
    {"noiversion", Kind::Clear, MS_I_VERSION},
    {"nolazytime", Kind::Clear, MS_LAZYTIME},
    {"nomand", Kind::Clear, MS_MANDLOCK},
    {"norelatime", Kind::Clear, MS_RELATIME},
    {"nostrictatime", Kind::Clear, MS_STRICTATIME},
    {"nosuid", Kind::Set, MS_NOSUID},
    {"nosymfollow", Kind::Set, MS_NOSYMFOLLOW},
    {"private", Kind::Propagation, MS_PRIVATE},
    {"ratime", Kind::Atime, MOUNT_ATTR_RELATIME},
    {"rbind", Kind::Rbind, 0},
    {"rdev", Kind::AttrClear, MOUNT_ATTR_NODEV},
    {"rdiratime", Kind::AttrClear, MOUNT_ATTR_NODIRATIME},
    {"relatime", Kind::Set, MS_RELATIME},
    {"remount", Kind::Set, MS_REMOUNT},
    {"rexec", Kind::AttrClear, MOUNT_ATTR_NOEXEC},
    {"ridmap", Kind::Ridmap, 0},
    {"rnoatime", Kind::Atime, MOUNT_ATTR_NOATIME},
    {"rnodev", Kind::AttrSet, MOUNT_ATTR_NODEV},
    {"rnodiratime", Kind::AttrSet, MOUNT_ATTR_NODIRATIME},
    {"rnoexec", Kind::AttrSet, MOUNT_ATTR_NOEXEC},
    {"rnorelatime", Kind::Atime, MOUNT_ATTR_STRICTATIME},
    {"rnostrictatime", Kind::Atime, MOUNT_ATTR_RELATIME},
    {"rnosuid", Kind::AttrSet, MOUNT_ATTR_NOSUID},
    {"rnosymfollow", Kind::AttrSet, MOUNT_ATTR_NOSYMFOLLOW},
    {"ro", Kind::Set, MS_RDONLY},
    {"rprivate", Kind::Propagation, MS_PRIVATE | MS_REC},
    {"rrelatime", Kind::Atime, MOUNT_ATTR_RELATIME},
    {"rro", Kind::AttrSet, MOUNT_ATTR_RDONLY},
    {"rrw", Kind::AttrClear, MOUNT_ATTR_RDONLY},
    {"rshared", Kind::Propagation, MS_SHARED | MS_REC},
    {"rslave", Kind::Propagation, MS_SLAVE | MS_REC},
    {"rstrictatime", Kind::Atime, MOUNT_ATTR_STRICTATIME},
    {"rsuid", Kind::AttrClear, MOUNT_ATTR_NOSUID},
    {"rsymfollow", Kind::AttrClear, MOUNT_ATTR_NOSYMFOLLOW},
    {"runbindable", Kind::Propagation, MS_UNBINDABLE | MS_REC},
    {"rw", Kind::Clear, MS_RDONLY},
    {"shared", Kind::Propagation, MS_SHARED},
    {"silent", Kind::Set, MS_SILENT},
    {"slave", Kind::Propagation, MS_SLAVE},
    {"strictatime", Kind::Set, MS_STRICTATIME},
    {"suid", Kind::Clear, MS_NOSUID},
    {"symfollow", Kind::Clear, MS_NOSYMFOLLOW},
    {"sync", Kind::Set, MS_SYNCHRONOUS},
    {"tmpcopyup", Kind::Tmpcopyup, 0},
    {"unbindable", Kind::Propagation, MS_UNBINDABLE},
};

const Option* find_option(std::string_view name) {
  for (const auto& o : kOptions) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

void apply(const Option& o, MountOptions& m) {
  const auto ms = static_cast<unsigned long>(o.value);
  switch (o.kind) {
    case Kind::Set:
      m.flags |= ms;
      m.clear &= ~ms;
      break;
    case Kind::Clear:
      m.clear |= ms;
      m.flags &= ~ms;
      break;
    case Kind::Propagation:
      m.propagation.push_back(ms);
      break;
    case Kind::AttrSet:
      m.attr_set |= o.value;
      m.attr_clr &= ~o.value;
      break;
    case Kind::AttrClear:
      m.attr_clr |= o.value;
      m.attr_set &= ~o.value;
      break;
    case Kind::Atime:
      m.attr_clr |= MOUNT_ATTR__ATIME;
      m.attr_set = (m.attr_set & ~static_cast<uint64_t>(MOUNT_ATTR__ATIME)) | o.value;
      break;
    case Kind::Bind:
      m.bind = true;
      m.flags |= MS_BIND;
      break;
    case Kind::Rbind:
      m.bind = m.recursive = true;
      m.flags |= MS_BIND | MS_REC;
      break;
    case Kind::Idmap:
      m.idmap = IdmapMode::Idmap;
      break;
    case Kind::Ridmap:
      m.idmap = IdmapMode::Ridmap;
      break;
    case Kind::Tmpcopyup:
      m.tmpcopyup = true;
      break;
    case Kind::Nothing:
      break;
  }
}

}  // namespace

MountOptions parse_mount_options(const std::vector<std::string>& options) {
  MountOptions m;
  for (const auto& opt : options) {
    if (opt.empty()) continue;
    if (const Option* o = find_option(opt)) {
      apply(*o, m);
      continue;
    }
    if (!m.data.empty()) m.data += ',';
    m.data += opt;
  }
  return m;
}

bool is_known_mount_option(std::string_view option) { return find_option(option) != nullptr; }

std::vector<std::string_view> known_mount_options() {
  std::vector<std::string_view> out;
  out.reserve(std::size(kOptions));
  for (const auto& o : kOptions) out.push_back(o.name);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string_view> supported_mount_options() {
  std::vector<std::string_view> out = known_mount_options();
  std::erase(out, std::string_view("iversion"));
  return out;
}

Result<unsigned long> parse_rootfs_propagation(std::string_view value) {
  static constexpr std::array<Option, 8> kProps = {{
      {"shared", Kind::Propagation, MS_SHARED},
      {"slave", Kind::Propagation, MS_SLAVE},
      {"private", Kind::Propagation, MS_PRIVATE},
      {"unbindable", Kind::Propagation, MS_UNBINDABLE},
      {"rshared", Kind::Propagation, MS_SHARED | MS_REC},
      {"rslave", Kind::Propagation, MS_SLAVE | MS_REC},
      {"rprivate", Kind::Propagation, MS_PRIVATE | MS_REC},
      {"runbindable", Kind::Propagation, MS_UNBINDABLE | MS_REC},
  }};
  for (const auto& p : kProps) {
    if (p.name == value) return static_cast<unsigned long>(p.value);
  }
  return Error::spec("linux.rootfsPropagation: unknown propagation \"{}\"", value);
}

}  // namespace husk::spec
