// linux.seccomp (the input is the object itself, as podman's profile is):
// parsed inside a minimal config.json, then validated and compiled by
// libseccomp into the BPF program and the cache key, without loading it.
// The cache key must be a function of the profile: computing it twice gives
// the same text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "linux/seccomp.hpp"
#include "spec/parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace husk;
  std::string json = R"({"ociVersion":"1.0.0","linux":{"seccomp":)";
  json.append(reinterpret_cast<const char*>(data), size);
  json += "}}";
  auto cfg = spec::parse_config(json);
  if (!cfg || !cfg->linux || !cfg->linux->seccomp) return 0;
  const spec::Seccomp& sc = *cfg->linux->seccomp;
  std::string key = linux_setup::seccomp_canonical_form(sc);
  if (key != linux_setup::seccomp_canonical_form(sc)) std::abort();
  (void)linux_setup::fnv1a64(key);
  std::vector<std::string> warnings;
  linux_setup::SeccompOptions opts;  // no cache directory: compile only
  auto prog = linux_setup::compile_seccomp(sc, opts, warnings);
  if (prog && prog->insns.empty()) std::abort();
  return 0;
}
