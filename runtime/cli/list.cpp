#include <algorithm>
#include <array>

#include "cli/context.hpp"
#include "cli/verbs.hpp"
#include "spec/state_json.hpp"

namespace husk::cli {

namespace {

constexpr OptionSpec kOptions[] = {{"format", 'f', true}, {"quiet", 'q', false}};

// runc's table: text/tabwriter with minwidth 12 and padding 3; the last
// column is not padded.
std::string table(const std::vector<lifecycle::ListEntry> &entries) {
  using Row = std::array<std::string, 6>;
  std::vector<Row> rows{{"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
  for (const auto &e : entries) {
    rows.push_back({e.st.id, std::to_string(e.st.pid), std::string(state::to_string(e.status)),
                    e.st.bundle, e.st.created, e.st.owner});
  }
  std::array<size_t, 6> width{};
  for (const auto &r : rows) {
    for (size_t c = 0; c < r.size(); ++c)
      width[c] = std::max({width[c], r[c].size() + 3, size_t{12}});
  }
  std::string out;
  for (const auto &r : rows) {
    for (size_t c = 0; c + 1 < r.size(); ++c) out += fmt::format("{:<{}}", r[c], width[c]);
    out += r.back() + "\n";
  }
  return out;
}

// One line, as runc's (a JSON encoder's output): scripts read it line-wise.
// An empty list stays "[]" (runc prints null), which every reader can iterate.
std::string json(const std::vector<lifecycle::ListEntry> &entries) {
  std::string out = "[";
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i != 0) out += ",";
    out += spec::oci_state_json_compact(entries[i].st, state::to_string(entries[i].status));
  }
  return out + "]\n";
}

}  // namespace

int cmd_list(const GlobalOptions &g, std::span<const std::string> args) {
  int code = 0;
  VerbSpec v{"list", "list [--format table|json] [--quiet]", kOptions, 0, 0};
  auto a = parse_verb(g, args, v, &code);
  if (!a) return code;
  std::string format = a->value("format").value_or("table");
  if (format != "table" && format != "json") {
    return report(g, Error::arg("invalid format option \"{}\" (table or json)", format));
  }
  auto entries = lifecycle::list(make_context(g));
  if (!entries) return report(g, entries.error());
  if (a->flag("quiet")) {
    std::string out;
    for (const auto &e : *entries) out += e.st.id + "\n";
    print_out(out);
  } else {
    print_out(format == "json" ? json(*entries) : table(*entries));
  }
  return 0;
}

}  // namespace husk::cli
