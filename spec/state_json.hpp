// JSON forms of a container's state:
//  - oci_state_json(): what `husk state` prints (runc's shape: the OCI state
//    plus rootfs, created, owner), 2-space indented, no trailing newline;
//    oci_state_json_compact(): the same on one line, for `list --format json`;
//  - hook_state_json(): the OCI state (runtime.md "State") written to each
//    hook's stdin, compact;
//  - container_process_state_json(): what a seccomp agent at
//    linux.seccomp.listenerPath receives (config-linux.md "The Container
//    Process State"), compact;
//  - to_json()/parse_container_state(): husk's own record, <root>/<id>/state.json.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "state/container_state.hpp"

namespace husk::spec {

// Format version of to_json()'s output; parse_container_state() rejects others.
inline constexpr int kStateRecordVersion = 1;

// `status` is the derived status ("created", "running", "paused", ...);
// `pid` is printed as recorded (the caller zeroes it for a stopped container).
std::string oci_state_json(const state::ContainerState& st, std::string_view status);
std::string oci_state_json_compact(const state::ContainerState& st, std::string_view status);

// {"ociVersion","id","status","pid","bundle","annotations"}; pid is left
// out when 0 and annotations when empty, as the spec's Go bindings do.
std::string hook_state_json(const state::ContainerState& st, std::string_view status);

// {"ociVersion","fds":["seccompFd"],"pid","metadata","state":hook_state_json}:
// the notification fd travels alone in SCM_RIGHTS, hence the one name;
// `pid` is the process the filter is on, as husk sees it; metadata (the
// opaque listenerMetadata) is left out when unset.
std::string container_process_state_json(const state::ContainerState& st, std::string_view status,
                                         int pid, const std::optional<std::string>& metadata);

std::string to_json(const state::ContainerState& st);
Result<state::ContainerState> parse_container_state(std::string_view json);

std::string_view phase_name(state::Phase p);  // "creating", "created", ...

// RFC 3339 in UTC with nanoseconds ("2026-12-03T11:41:05.009386123Z"), as
// runc prints `created` and log times. Formatted by hand: strftime(3) calls
// tzset(3), which reads /etc/localtime, for a UTC time that needs no zone.
std::string rfc3339_utc(long long seconds, long nanoseconds);

}  // namespace husk::spec
