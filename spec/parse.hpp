// config.json (runtime-spec v1.3.0, Linux) -> spec::Config. Pure: bytes in,
// structs or an InvalidSpec error naming the JSON path out. Types and
// required fields are checked here; cross-field semantics are validate()'s.
#pragma once

#include <string_view>

#include "base/result.hpp"
#include "spec/config.hpp"
#include "spec/diagnostics.hpp"

namespace husk::spec {

// The oldest and newest runtime-spec versions husk accepts in ociVersion:
// any SemVer 1.0.0 <= v < 1.4.0, pre-release and build suffixes allowed.
inline constexpr std::string_view kOciVersionMin = "1.0.0";
inline constexpr std::string_view kOciVersionMax = "1.3.0";

Result<Config> parse_config(std::string_view json);

// For `husk check`: as parse_config, but a wrong member (type, range,
// missing required one) is recorded in `d` and left unset, and reading goes
// on, so that every such error is found at once; an unknown member one or
// two letters away from a known name at its level is a warning with that
// name as the suggestion. Fails only when the text is not a JSON object.
Result<Config> parse_config_lenient(std::string_view json, Diagnostics& d);

// A LinuxResources object at top level (`update --resources FILE|-`).
// Error paths are relative to it: `memory.limit: ...`.
Result<Resources> parse_resources(std::string_view json);

// A Process object at top level (`exec --process FILE`), with the same
// checks as config.json's "process". Error paths are relative to it:
// `user.uid: ...`.
Result<Process> parse_process(std::string_view json);

// The ociVersion rule on its own: SemVer 2.0.0, major 1, minor <= 3.
Status check_oci_version(std::string_view version);

}  // namespace husk::spec
