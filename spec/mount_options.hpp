// A mount's `options` list (config.md "Linux mount options") decoded into
// what mount(2) and mount_setattr(2) take. Options husk does not know are
// filesystem-specific and go, comma-joined and in order, into `data`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace husk::spec {

enum class IdmapMode : unsigned char {
  None,
  Idmap,   // "idmap": MOUNT_ATTR_IDMAP on the mount itself
  Ridmap,  // "ridmap": the same, recursively (AT_RECURSIVE)
};

struct MountOptions {
  // MS_* flags to pass to mount(2), including MS_BIND/MS_REC for bind and
  // rbind and MS_REMOUNT for remount. Never contains propagation flags.
  unsigned long flags = 0;
  // MS_* flags a "clearing" option named (rw, suid, dev, exec, atime, ...):
  // they must end up unset, which matters for bind mounts that inherit the
  // source's flags until remounted. Disjoint from `flags`; the later option wins.
  unsigned long clear = 0;
  // Propagation changes in the order given: one of MS_SHARED, MS_SLAVE,
  // MS_PRIVATE, MS_UNBINDABLE, with MS_REC for the r* forms.
  std::vector<unsigned long> propagation;
  bool bind = false;       // "bind" or "rbind"
  bool recursive = false;  // "rbind"
  // Recursive attributes (r* options) for mount_setattr(2) with AT_RECURSIVE.
  // Access-time modes are an enum in the kernel ABI: when one is chosen,
  // attr_clr holds all of MOUNT_ATTR__ATIME and attr_set the mode.
  uint64_t attr_set = 0;
  uint64_t attr_clr = 0;
  IdmapMode idmap = IdmapMode::None;
  bool tmpcopyup = false;  // copy the shadowed directory's content into the new tmpfs
  std::string data;        // unknown options, comma-joined, for mount(2)'s data

  [[nodiscard]] bool has_recursive_attrs() const { return attr_set != 0 || attr_clr != 0; }
};

// Never fails: every string is either a known option or filesystem data.
// Empty strings are skipped.
MountOptions parse_mount_options(const std::vector<std::string>& options);

// True for the options parse_mount_options() interprets itself.
bool is_known_mount_option(std::string_view option);
// Every interpreted option, sorted.
std::vector<std::string_view> known_mount_options();
// The features document's mountOptions: the known options some mount can
// take, sorted. "iversion" is not among them: a bind refuses it (it is a
// superblock flag, and a bind shares the source's superblock) and so does a
// new filesystem (fsconfig(2) has no generic i_version flag; filesystems
// that keep i_version do so on their own), see runtime/linux/mount.cpp.
// Every other option works on a tmpfs or a bind (test_features_mount_options).
std::vector<std::string_view> supported_mount_options();

// linux.rootfsPropagation: shared, slave, private, unbindable and their
// r* forms -> MS_SHARED ... (| MS_REC for the r* forms).
// Error: `linux.rootfsPropagation: unknown propagation "x"`.
Result<unsigned long> parse_rootfs_propagation(std::string_view value);

}  // namespace husk::spec
