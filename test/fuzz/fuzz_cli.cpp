// The command line as main() parses it, from the real tables (commands.hpp):
// the input is argv[1..], NUL-separated. Global options stop at the first
// positional; that positional picks the verb, whose own options and operand
// count are then checked. Nothing runs.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/strings.hpp"
#include "cli/cli.hpp"
#include "cli/commands.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace husk::cli;
  std::vector<std::string> args;
  for (auto a : husk::split(std::string_view(reinterpret_cast<const char*>(data), size), '\0')) {
    args.emplace_back(a);
  }
  auto globals = parse(args, global_options(), ArgOrder::StopAtPositional);
  if (!globals) return 0;
  if (auto r = globals->value("rootless")) (void)parse_bool(*r);
  if (globals->positional.empty()) return 0;
  const Command* c = find_command(globals->positional[0]);
  if (c == nullptr) return 0;
  auto a =
      parse(std::span<const std::string>(globals->positional).subspan(1), c->options, c->order);
  if (!a) return 0;
  for (const auto& s : c->options) {
    (void)a->flag(s.long_name);
    (void)a->value(s.long_name);
    (void)a->all(s.long_name);
  }
  if (c->min_args == c->max_args) (void)expect_exactly(*a, c->name, c->min_args);
  (void)expect_at_least(*a, c->name, c->min_args);
  (void)expect_at_most(*a, c->name, c->max_args);
  return 0;
}
