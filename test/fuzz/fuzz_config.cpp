// config.json: parse_config, then everything create checks or plans from it
// before its first side effect (validate, namespaces, rootfs and mounts,
// devices). Any input must give a Config or an error, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "linux/namespaces.hpp"
#include "linux/rootfs.hpp"
#include "spec/parse.hpp"
#include "spec/validate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace husk;
  std::string_view json(reinterpret_cast<const char*>(data), size);
  auto cfg = spec::parse_config(json);
  if (!cfg) {
    (void)cfg.error().message();
    return 0;
  }
  std::vector<std::string> warnings;
  if (!spec::validate(*cfg, &warnings)) return 0;
  auto ns = linux_setup::plan_namespaces(*cfg);
  if (!ns) return 0;
  linux_setup::RootfsOptions opts{"/run/fuzz/rootfs", "/run/fuzz", false, false, false};
  auto rootfs = linux_setup::plan_rootfs(*cfg, opts);
  if (!rootfs) (void)rootfs.error().message();
  return 0;
}
