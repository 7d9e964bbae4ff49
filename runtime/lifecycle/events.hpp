// `events` (runc's): the container's cgroup statistics as JSON, once
// (--stats) or every --interval, plus an "oom" event each time the memory
// cgroup reports an OOM. One JSON object per line, in runc's shape
// (libcontainer/types: {"type":"stats","id":ID,"data":{cpu,memory,pids,...}}).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "cgroup/stats.hpp"
#include "lifecycle/lifecycle.hpp"

namespace husk::lifecycle {

struct EventsOptions {
  std::string id;
  bool stats_only = false;                           // --stats: one stats event, then return
  std::chrono::nanoseconds interval{5'000'000'000};  // --interval (> 0)
};

// Called with each event as one line of JSON (no trailing newline); an error
// (e.g. stdout gone) ends the stream.
using EmitFn = std::function<Status(const std::string& line)>;

// Errors: `container "x" does not exist`; a stopped container is
// "container with id x is not running" (runc's words); a non-positive
// interval "duration interval must be greater than 0". Streaming ends, with
// success, once the container's cgroup is removed (delete).
Status events(const Context& ctx, const EventsOptions& o, const EmitFn& emit);

std::string stats_event_json(std::string_view id, const cgroup::Stats& s);
std::string oom_event_json(std::string_view id);

// A Go time.Duration string as urfave/cli accepts for --interval: "5s",
// "100ms", "1m30s", "1.5h", "0" (units ns, us, µs, ms, s, m, h).
// InvalidArgument for anything else.
Result<std::chrono::nanoseconds> parse_go_duration(std::string_view s);

}  // namespace husk::lifecycle
