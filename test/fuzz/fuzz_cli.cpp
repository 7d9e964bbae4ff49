// The command-line option parser (cli::parse): the arguments are the input's
// NUL-separated pieces; the first byte picks the option table and the
// argument order, so one corpus covers global options (StopAtPositional,
// as main parses them) and a verb's (exec's shapes: short and long names,
// values, repeatable options; interleaved or stopping at the first
// positional).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli/cli.hpp"

namespace {

using husk::cli::OptionSpec;

constexpr OptionSpec kGlobal[] = {
    {"root", 0, true},
    {"log", 0, true},
    {"log-format", 0, true},
    {"debug", 0, false},
    {"systemd-cgroup", 0, false},
    {"rootless", 0, true},
    {"criu", 0, true},
    {"version", 'v', false},
};

constexpr OptionSpec kVerb[] = {
    {"console-socket", 0, true}, {"cwd", 0, true},       {"env", 'e', true, true},
    {"tty", 't', false},         {"user", 'u', true},    {"additional-gids", 'g', true, true},
    {"process", 'p', true},      {"detach", 'd', false}, {"pid-file", 0, true},
    {"cap", 'c', true, true},    {"all", 'a', false},    {"signal", 's', true},
    {"help", 'h', false},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace husk::cli;
  if (size == 0) return 0;
  uint8_t mode = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<std::string> args;
  while (!rest.empty()) {
    size_t nul = rest.find('\0');
    args.emplace_back(rest.substr(0, nul));
    rest.remove_prefix(nul == std::string_view::npos ? rest.size() : nul + 1);
  }
  std::span<const OptionSpec> specs =
      (mode & 1) != 0 ? std::span<const OptionSpec>(kGlobal) : std::span<const OptionSpec>(kVerb);
  auto order = (mode & 2) != 0 ? ArgOrder::StopAtPositional : ArgOrder::Interleaved;
  auto parsed = parse(args, specs, order);
  if (!parsed) return 0;
  for (const auto& s : specs) {
    (void)parsed->flag(s.long_name);
    (void)parsed->value(s.long_name);
    (void)parsed->all(s.long_name);
  }
  for (const auto& p : parsed->positional) (void)parse_bool(p);
  (void)expect_exactly(*parsed, "fuzz", 1);
  (void)expect_at_least(*parsed, "fuzz", 2);
  (void)expect_at_most(*parsed, "fuzz", 3);
  return 0;
}
