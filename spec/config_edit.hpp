// Edits of a config.json's text that keep every other member as it was,
// unknown ones included (the copy in the state directory is read back by
// start and delete, and by tools that look at it).
#pragma once

#include <string>
#include <string_view>

#include "base/result.hpp"
#include "spec/config.hpp"

namespace husk::spec {

// config_json with its "hooks" member replaced by `hooks` (compact JSON).
Result<std::string> with_hooks(std::string_view config_json, const Hooks& hooks);

}  // namespace husk::spec
