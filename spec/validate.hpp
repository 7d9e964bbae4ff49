// Semantic checks of a parsed config, done before any side effect of create
// (runtime.md: a failing create must leave nothing behind). Errors are
// InvalidSpec and name the JSON path; conditions runc tolerates with a
// message (deprecated forms) become warnings.
//
// Not checked here: anything needing the host (paths existing, kernel
// support), and valid-but-unsupported features (AppArmor, intelRdt, ...),
// which the module that would implement them rejects as Unsupported.
#pragma once

#include <string>
#include <vector>

#include "base/result.hpp"
#include "spec/config.hpp"
#include "spec/diagnostics.hpp"

namespace husk::spec {

// `warnings` may be null; otherwise human-readable warnings are appended.
// Fails with the first error validate_all records.
Status validate(const Config& config, std::vector<std::string>* warnings);

// Every error and warning at once, each with its JSON path (`husk check`).
void validate_all(const Config& config, Diagnostics& d);

// The linux.resources part alone, for `update --resources`. `path` prefixes
// error paths: "linux.resources" for a config, "" for an update document.
Status validate_resources(const Resources& resources, const std::string& path,
                          std::vector<std::string>* warnings);
void validate_resources_all(const Resources& resources, const std::string& path, Diagnostics& d);

// A cpuset list as the kernel's cpulist format: "0-3,8,10-11". Empty is valid.
Status check_cpu_list(std::string_view list, const std::string& path);

}  // namespace husk::spec
