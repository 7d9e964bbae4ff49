// `update --resources FILE`: a LinuxResources document, parsed and validated.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "spec/parse.hpp"
#include "spec/validate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace husk;
  std::string_view json(reinterpret_cast<const char*>(data), size);
  auto res = spec::parse_resources(json);
  if (!res) return 0;
  std::vector<std::string> warnings;
  (void)spec::validate_resources(*res, "", &warnings);
  return 0;
}
