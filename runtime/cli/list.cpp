// husk list [--format table|json] [--quiet]
#include <algorithm>
#include <array>

#include "cli/context.hpp"
#include "cli/verbs.hpp"
#include "spec/state_json.hpp"

namespace husk::cli {

namespace {

constexpr OptionSpec kOptions[] = {
    value_option("format", 'f', "table|json", "output format (default table)"),
    bool_option("quiet", 'q', "print only the container ids, one a line"),
};

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

int list(const GlobalOptions &g, const ParsedArgs &a) {
  std::string format = a.value("format").value_or("table");
  if (format != "table" && format != "json") {
    return report(g, Error::arg("invalid format option \"{}\" (table or json)", format));
  }
  auto entries = lifecycle::list(make_context(g));
  if (!entries) return report(g, entries.error());
  if (a.flag("quiet")) {
    std::string out;
    for (const auto &e : *entries) out += e.st.id + "\n";
    print_out(out);
  } else {
    print_out(format == "json" ? json(*entries) : table(*entries));
  }
  return 0;
}

}  // namespace

const Command kListCommand{
    .name = "list",
    .summary = "list containers",
    .usage = "list [command options]",
    .description =
        "Lists the containers whose state is under --root, with their init's pid, status, "
        "bundle, creation time and owner. A stopped container shows pid 0. The json format "
        "prints one array of OCI state objects on a single line.",
    .examples =
        "# The ids of all containers, e.g. for a script:\n"
        "husk list --quiet\n"
        "\n"
        "# Every container's state, as JSON:\n"
        "husk list --format json",
    .options = kOptions,
    .min_args = 0,
    .max_args = 0,
    .operand = Operand::None,
    .run = list,
};

}  // namespace husk::cli
