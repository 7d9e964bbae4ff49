// hooks.d files (hooks/hooks_d.hpp): parse_hooks_d on the input as one
// file's YAML, then, when it parses, its conditions matched and its hook
// injected into two configs: one that has annotations, a command and a bind
// mount to match against, and a bare one (no process, annotations or
// mounts). yaml-cpp reports by exceptions: any that escaped parse_hooks_d
// would end the run here, as it would end husk.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "hooks/hooks_d.hpp"
#include "spec/parse.hpp"

namespace {

husk::spec::Config config(std::string_view json) {
  auto c = husk::spec::parse_config(json);
  if (!c) __builtin_trap();  // the literals below are valid
  return *std::move(c);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace husk;
  static const spec::Config kRich =
      config(R"({"ociVersion":"1.2.0","root":{"path":"rootfs"},)"
             R"("process":{"args":["/usr/bin/nvidia-smi","-L"],"cwd":"/"},)"
             R"("mounts":[{"destination":"/data","source":"/srv/data","options":["rbind","ro"]}],)"
             R"("annotations":{"io.podman.annotations.oci-hooks":"true",)"
             R"("com.example.gpu":"nvidia0","com.example.log":"yes"}})");
  static const spec::Config kBare = config(R"({"ociVersion":"1.2.0","root":{"path":"rootfs"}})");
  std::string_view yaml(reinterpret_cast<const char*>(data), size);
  auto file = hooks::parse_hooks_d(yaml, "/etc/husk/hooks.d/fuzz.yaml");
  if (!file) {
    (void)file.error().message();
    return 0;
  }
  for (const spec::Config* base : {&kRich, &kBare}) {
    spec::Config cfg = *base;
    auto added = hooks::inject(std::span<const hooks::HookFile>(&*file, 1), cfg);
    if (!added) (void)added.error().message();
  }
  return 0;
}
