// <root>/<id>/state.json, husk's own record: whatever is on disk (a crash,
// another version, a hand edit) must parse or fail cleanly. What parses must
// survive a round trip: writing it back and parsing again gives the same
// text, so no field is lost or changed by a later save.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "spec/state_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace husk;
  std::string_view json(reinterpret_cast<const char*>(data), size);
  auto st = spec::parse_container_state(json);
  if (!st) return 0;
  auto text = spec::to_json(*st);
  auto again = spec::parse_container_state(text);
  if (!again || spec::to_json(*again) != text) std::abort();
  (void)spec::oci_state_json(*st, "running");
  (void)spec::oci_state_json_compact(*st, "stopped");
  (void)spec::hook_state_json(*st, "created");
  return 0;
}
