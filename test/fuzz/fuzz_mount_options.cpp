// A mount's options (one per line of the input): parse_mount_options, then
// plan_mount on a tmpfs, a bind and an idmapped bind with those options (the
// flags, the fsconfig data split and the mount_setattr attributes), and
// rootfsPropagation on the first line.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/strings.hpp"
#include "linux/mount.hpp"
#include "spec/mount_options.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace husk;
  std::vector<std::string> options;
  for (auto o : split(std::string_view(reinterpret_cast<const char*>(data), size), '\n')) {
    options.emplace_back(o);
  }
  auto parsed = spec::parse_mount_options(options);
  (void)linux_setup::split_fs_data(parsed.data);
  (void)linux_setup::ms_to_mount_attrs(parsed.flags, parsed.clear);
  for (const auto& o : options) (void)spec::is_known_mount_option(o);
  if (!options.empty()) (void)spec::parse_rootfs_propagation(options[0]);

  std::vector<spec::IdMapping> ids{{0, 100000, 65536}};
  linux_setup::MountEnv env{"/run/fuzz", true, &ids, &ids, {}};
  const char* types[] = {"tmpfs", "bind", "proc"};
  for (size_t i = 0; i < 3; ++i) {
    spec::Mount m;
    m.destination = "/mnt";
    m.type = types[i];
    m.source = i == 1 ? "src" : types[i];
    m.options = options;
    auto plan = linux_setup::plan_mount(m, i, env);
    if (!plan) (void)plan.error().message();
  }
  return 0;
}
