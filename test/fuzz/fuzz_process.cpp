// `exec --process FILE`: a Process object, parsed (parse_process) and planned
// as exec plans it (plan_process: user, rlimits, capabilities, scheduler,
// affinity, args and env, the $PATH candidates).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "linux/process.hpp"
#include "spec/parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace husk;
  std::string_view json(reinterpret_cast<const char*>(data), size);
  auto proc = spec::parse_process(json);
  if (!proc) return 0;
  linux_setup::ProcessOptions opts;
  opts.is_exec = true;
  opts.runtime_binary = linux_setup::FileIdentity{1, 1};  // no fstat of /proc/self/exe
  auto plan = linux_setup::plan_process(*proc, opts);
  if (!plan) (void)plan.error().message();
  return 0;
}
