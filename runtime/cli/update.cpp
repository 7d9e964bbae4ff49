// husk update [--resources FILE|-] [resource flags] <container-id>
#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>

#include "cli/context.hpp"
#include "cli/verbs.hpp"
#include "spec/parse.hpp"
#include "sys/fd.hpp"
#include "sys/file.hpp"

namespace husk::cli {

namespace {

constexpr OptionSpec kOptions[] = {
    value_option("resources", 'r', "FILE",
                 "read the new limits from FILE (\"-\": standard input), a JSON "
                 "linux.resources object; not combined with the flags below"),
    value_option("memory", 0, "SIZE", "memory limit, as 512m or 2g (-1: unlimited)"),
    value_option("memory-reservation", 0, "SIZE", "memory soft limit"),
    value_option("memory-swap", 0, "SIZE", "memory plus swap limit (-1: unlimited)"),
    value_option("pids-limit", 0, "N", "most processes the container may have (-1: unlimited)"),
    value_option("cpu-share", 0, "N", "relative CPU weight against other cgroups"),
    value_option("cpu-shares", 0, "N", "the same as --cpu-share"),
    value_option("cpu-quota", 0, "USEC", "CPU time allowed in each period (-1: unlimited)"),
    value_option("cpu-period", 0, "USEC", "length of the CPU quota period"),
    value_option("cpu-burst", 0, "USEC", "unused quota a period may carry into the next"),
    value_option("cpu-rt-period", 0, "USEC", "length of the real-time scheduling period"),
    value_option("cpu-rt-runtime", 0, "USEC", "real-time CPU time allowed in each period"),
    value_option("cpu-idle", 0, "0|1", "1: schedule the cgroup with the idle policy"),
    value_option("cpuset-cpus", 0, "LIST", "CPUs the container may use, as 0-3,6"),
    value_option("cpuset-mems", 0, "LIST", "memory nodes the container may use, as 0-1"),
    value_option("blkio-weight", 0, "N", "relative block I/O weight, 10 to 1000"),
};

Error bad_value(std::string_view flag, std::string_view v, std::string_view why) {
  return Error::arg("invalid value \"{}\" for flag --{}: {}", v, flag, why);
}

template <typename T>
Result<T> integer(std::string_view flag, std::string_view v) {
  T out{};
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec == std::errc::result_out_of_range) return bad_value(flag, v, "out of range");
  if (ec != std::errc() || p != v.data() + v.size()) return bad_value(flag, v, "not an integer");
  return out;
}

// Sizes as runc's --memory: "-1" (unlimited) or a number with an optional
// binary unit (k, m, g, t, p; optional "b"/"ib", any case): 512m, 1.5G, 100.
Result<int64_t> ram_bytes(std::string_view flag, std::string_view v) {
  if (v == "-1") return -1;
  size_t i = 0;
  while (i < v.size() && ((v[i] >= '0' && v[i] <= '9') || v[i] == '.')) ++i;
  double num = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + i, num);
  if (i == 0 || ec != std::errc() || p != v.data() + i) return bad_value(flag, v, "not a size");
  std::string unit;
  for (char c : v.substr(i)) {
    if (c != ' ') unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (unit.size() > 1 && (unit.ends_with("ib") || unit.ends_with("b"))) {
    unit.erase(unit.size() - (unit.ends_with("ib") ? 2 : 1));
  } else if (unit == "b") {
    unit.clear();
  }
  static constexpr std::string_view kUnits = "kmgtp";
  double mult = 1;
  if (!unit.empty()) {
    size_t k = kUnits.find(unit);
    if (unit.size() != 1 || k == std::string_view::npos) return bad_value(flag, v, "unknown unit");
    mult = std::pow(1024.0, static_cast<double>(k + 1));
  }
  double bytes = num * mult;
  if (bytes > 9.2e18) return bad_value(flag, v, "out of range");
  return static_cast<int64_t>(bytes);
}

Status memory_flags(const ParsedArgs &a, spec::Resources &r) {
  auto set = [&](const char *flag, std::optional<int64_t> spec::Memory::*field) -> Status {
    auto v = a.value(flag);
    if (!v) return {};
    if (!r.memory) r.memory.emplace();
    (*r.memory).*field = TRY(ram_bytes(flag, *v));
    return {};
  };
  TRY(set("memory", &spec::Memory::limit));
  TRY(set("memory-reservation", &spec::Memory::reservation));
  TRY(set("memory-swap", &spec::Memory::swap));
  return {};
}

template <typename T>
Status cpu_flag(const ParsedArgs &a, const char *flag, std::optional<T> spec::Cpu::*field,
                spec::Resources &r) {
  auto v = a.value(flag);
  if (!v) return {};
  if (!r.cpu) r.cpu.emplace();
  if constexpr (std::is_same_v<T, std::string>) {
    (*r.cpu).*field = *v;
  } else {
    (*r.cpu).*field = TRY(integer<T>(flag, *v));
  }
  return {};
}

Status cpu_flags(const ParsedArgs &a, spec::Resources &r) {
  TRY(cpu_flag(a, "cpu-share", &spec::Cpu::shares, r));
  TRY(cpu_flag(a, "cpu-shares", &spec::Cpu::shares, r));
  TRY(cpu_flag(a, "cpu-quota", &spec::Cpu::quota, r));
  TRY(cpu_flag(a, "cpu-period", &spec::Cpu::period, r));
  TRY(cpu_flag(a, "cpu-burst", &spec::Cpu::burst, r));
  TRY(cpu_flag(a, "cpu-rt-period", &spec::Cpu::realtime_period, r));
  TRY(cpu_flag(a, "cpu-rt-runtime", &spec::Cpu::realtime_runtime, r));
  TRY(cpu_flag(a, "cpu-idle", &spec::Cpu::idle, r));
  TRY(cpu_flag(a, "cpuset-cpus", &spec::Cpu::cpus, r));
  TRY(cpu_flag(a, "cpuset-mems", &spec::Cpu::mems, r));
  return {};
}

Result<spec::Resources> from_flags(const ParsedArgs &a) {
  spec::Resources r;
  TRY(memory_flags(a, r));
  TRY(cpu_flags(a, r));
  if (auto v = a.value("pids-limit")) r.pids = spec::Pids{TRY(integer<int64_t>("pids-limit", *v))};
  if (auto v = a.value("blkio-weight")) {
    r.block_io.emplace();
    r.block_io->weight = TRY(integer<uint16_t>("blkio-weight", *v));
  }
  return r;
}

Result<std::string> read_input(const std::string &path) {
  if (path == "-") return sys::read_all(STDIN_FILENO, "stdin");
  return sys::read_file(path);
}

Result<spec::Resources> resources(const ParsedArgs &a) {
  auto file = a.value("resources");
  if (!file) return from_flags(a);
  if (a.values.size() > 1) {
    return Error::arg("--resources cannot be combined with other resource flags");
  }
  auto bytes = TRY(read_input(*file));
  return TRY_CTX(spec::parse_resources(bytes), "--resources {}", *file);
}

int update(const GlobalOptions &g, const ParsedArgs &a) {
  auto r = resources(a);
  if (!r) return report(g, r.error());
  auto st = lifecycle::update(make_context(g), a.positional[0], *r);
  return st ? 0 : report(g, st.error());
}

}  // namespace

const Command kUpdateCommand{
    .name = "update",
    .summary = "change the resource limits of a running container",
    .usage = "update [command options] <container-id>",
    .description =
        "Writes new cgroup limits for a created, running or paused container and records "
        "them in its state, so later commands see them. Only the limits given change; the "
        "others keep their values.\n"
        "\n"
        "Sizes take a unit suffix k, m, g, t or p (powers of 1024). Durations are in "
        "microseconds.",
    .examples =
        "# Give web 1 GiB of memory and at most 200 processes:\n"
        "husk update --memory 1g --pids-limit 200 web\n"
        "\n"
        "# Apply a resources object from a file:\n"
        "husk update --resources limits.json web",
    .options = kOptions,
    .run = update,
};

}  // namespace husk::cli
