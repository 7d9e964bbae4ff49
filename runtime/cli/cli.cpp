#include "cli/cli.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "spec/state_json.hpp"
#include "sys/fd.hpp"

namespace husk::cli {

namespace {

const OptionSpec* find_long(std::span<const OptionSpec> specs, std::string_view name) {
  for (const auto& s : specs) {
    if (name == s.long_name) return &s;
  }
  return nullptr;
}

const OptionSpec* find_short(std::span<const OptionSpec> specs, char c) {
  for (const auto& s : specs) {
    if (s.short_name != 0 && s.short_name == c) return &s;
  }
  return nullptr;
}

Error undefined(std::string_view name) {
  return Error::arg("flag provided but not defined: -{}", name);
}

class Parser {
 public:
  Parser(std::span<const std::string> args, std::span<const OptionSpec> specs)
      : args_(args), specs_(specs) {}

  Result<ParsedArgs> run(ArgOrder order) {
    bool options_done = false;
    for (i_ = 0; i_ < args_.size(); ++i_) {
      const std::string& a = args_[i_];
      if (!options_done && a == "--") {
        options_done = true;
      } else if (!options_done && a.size() > 1 && a[0] == '-') {
        TRY(option(a));
      } else {
        out_.positional.push_back(a);
        if (order == ArgOrder::StopAtPositional) options_done = true;
      }
    }
    return std::move(out_);
  }

 private:
  Status option(const std::string& a) {
    bool two_dashes = a[1] == '-';
    std::string_view body = std::string_view(a).substr(two_dashes ? 2 : 1);
    size_t eq = body.find('=');
    std::string_view name = body.substr(0, eq);
    std::optional<std::string_view> inline_value;
    if (eq != std::string_view::npos) inline_value = body.substr(eq + 1);
    if (name.empty()) return undefined(body);
    const OptionSpec* spec = find_long(specs_, name);
    if (spec == nullptr && name.size() == 1) spec = find_short(specs_, name[0]);
    if (spec != nullptr) return assign(*spec, name, inline_value);
    if ((name == "help" || name == "h") && !inline_value) {
      out_.help = true;
      return {};
    }
    if (two_dashes || inline_value) return undefined(name);
    return combined(name);
  }

  // -abc: single-letter flags; a letter taking a value takes the rest of
  // the word, or the next argument.
  Status combined(std::string_view letters) {
    for (size_t k = 0; k < letters.size(); ++k) {
      const OptionSpec* spec = find_short(specs_, letters[k]);
      if (spec == nullptr) return undefined(letters);
      if (!spec->takes_value) {
        out_.values[spec->long_name].emplace_back("true");
        continue;
      }
      std::string_view rest = letters.substr(k + 1);
      if (!rest.empty()) return assign(*spec, letters.substr(k, 1), rest);
      return assign(*spec, letters.substr(k, 1), std::nullopt);
    }
    return {};
  }

  Status assign(const OptionSpec& spec, std::string_view given,
                std::optional<std::string_view> inline_value) {
    auto& slot = out_.values[spec.long_name];
    if (!spec.takes_value) {
      if (!inline_value) {
        slot.emplace_back("true");
        return {};
      }
      auto b = parse_bool(*inline_value);
      if (!b)
        return Error::arg("invalid boolean value \"{}\" for -{}: parse error", *inline_value,
                          given);
      slot.emplace_back(*b ? "true" : "false");
      return {};
    }
    if (inline_value) {
      slot.emplace_back(*inline_value);
    } else if (i_ + 1 < args_.size()) {
      slot.push_back(args_[++i_]);
    } else {
      return Error::arg("flag needs an argument: -{}", given);
    }
    if (!spec.repeatable && slot.size() > 1) slot.erase(slot.begin(), slot.end() - 1);
    return {};
  }

  std::span<const std::string> args_;
  std::span<const OptionSpec> specs_;
  size_t i_ = 0;
  ParsedArgs out_;
};

Status count_error(std::string_view verb, const char* how, std::size_t n) {
  return Error::arg("\"{}\" requires {} {} argument(s)", verb, how, n);
}

std::string now_rfc3339() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return spec::rfc3339_utc(ts.tv_sec, ts.tv_nsec);
}

void append_escaped(std::string& out, std::string_view s) {
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
}

// Best effort: a failed write to stderr or the log has nowhere to be reported.
void write_fd(int fd, const std::string& s) { (void)write_all(fd, s); }

// Append one line to --log. Failure to log is reported on stderr only.
void append_log(const GlobalOptions& g, const char* level, const std::string& msg) {
  std::string line = format_log_line(g.log_format, level, msg, now_rfc3339()) + "\n";
  sys::UniqueFd fd(::open(g.log->c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
  if (!fd) {
    write_fd(STDERR_FILENO,
             fmt::format("husk: cannot open log file {}: {}\n", *g.log, std::strerror(errno)));
    return;
  }
  // O_APPEND: one write(2) per line keeps concurrent writers' lines whole.
  write_fd(fd.get(), line);
}

}  // namespace

Status write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::last("write");
    if (n == 0) return Error::make(ErrorKind::Sys, "write: no progress");
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

bool ParsedArgs::flag(const std::string& name) const {
  auto v = value(name);
  return v && *v == "true";
}

std::optional<std::string> ParsedArgs::value(const std::string& name) const {
  auto it = values.find(name);
  if (it == values.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> ParsedArgs::all(const std::string& name) const {
  auto it = values.find(name);
  return it == values.end() ? std::vector<std::string>() : it->second;
}

Result<ParsedArgs> parse(std::span<const std::string> args, std::span<const OptionSpec> specs,
                         ArgOrder order) {
  return Parser(args, specs).run(order);
}

std::optional<bool> parse_bool(std::string_view s) {
  if (s == "1" || s == "t" || s == "T" || s == "true" || s == "TRUE" || s == "True") return true;
  if (s == "0" || s == "f" || s == "F" || s == "false" || s == "FALSE" || s == "False")
    return false;
  return std::nullopt;
}

Status expect_exactly(const ParsedArgs& a, std::string_view verb, std::size_t n) {
  if (a.positional.size() != n) return count_error(verb, "exactly", n);
  return {};
}

Status expect_at_least(const ParsedArgs& a, std::string_view verb, std::size_t n) {
  if (a.positional.size() < n) return count_error(verb, "a minimum of", n);
  return {};
}

Status expect_at_most(const ParsedArgs& a, std::string_view verb, std::size_t n) {
  if (a.positional.size() > n) return count_error(verb, "a maximum of", n);
  return {};
}

std::string format_log_line(LogFormat f, std::string_view level, std::string_view msg,
                            std::string_view time_rfc3339) {
  std::string out;
  if (f == LogFormat::Json) {
    out = "{\"level\":\"";
    append_escaped(out, level);
    out += "\",\"msg\":\"";
    append_escaped(out, msg);
    out += "\",\"time\":\"";
    append_escaped(out, time_rfc3339);
    out += "\"}";
    return out;
  }
  out = fmt::format("time=\"{}\" level={} msg=\"", time_rfc3339, level);
  append_escaped(out, msg);
  out += '"';
  return out;
}

int report(const GlobalOptions& g, const Error& e) {
  std::string msg = e.message();
  if (g.log) append_log(g, "error", msg);
  write_fd(STDERR_FILENO, msg + "\n");
  return 1;
}

void log_line(const GlobalOptions& g, const char* level, const std::string& msg) {
  if (std::string_view(level) == "debug" && !g.debug) return;
  if (g.log) {
    append_log(g, level, msg);
    return;
  }
  write_fd(STDERR_FILENO, format_log_line(LogFormat::Text, level, msg, now_rfc3339()) + "\n");
}

void print_out(std::string_view s) { write_fd(STDOUT_FILENO, std::string(s)); }

int run_command(const GlobalOptions& g, const Command& c, std::span<const std::string> args) {
  auto a = parse(args, c.options, c.order);
  Status st = a ? Status() : Status(a.error());
  if (st && a->help) {
    print_out(command_help(c));
    return 0;
  }
  if (st && c.min_args == c.max_args) st = expect_exactly(*a, c.name, c.min_args);
  if (st) st = expect_at_least(*a, c.name, c.min_args);
  if (st) st = expect_at_most(*a, c.name, c.max_args);
  if (!st) return report(g, st.error());
  return c.run(g, *a);
}

namespace {

std::string wrap(std::string_view text, size_t indent, size_t width) {
  std::string out;
  std::string pad(indent, ' ');
  size_t col = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty()) {
      out += col == 0 ? "\n" : "\n\n";
      col = 0;
      continue;
    }
    while (!line.empty()) {
      size_t sp = line.find(' ');
      std::string_view word = line.substr(0, sp);
      line.remove_prefix(sp == std::string_view::npos ? line.size() : sp + 1);
      if (col != 0 && col + 1 + word.size() > width) {
        out += '\n';
        col = 0;
      }
      out += col == 0 ? pad : " ";
      out += word;
      col += (col == 0 ? indent : 1) + word.size();
    }
  }
  if (col != 0) out += '\n';
  return out;
}

}  // namespace

std::string options_help(std::span<const OptionSpec> specs, bool add_help) {
  std::string out;
  // Help text in a column from kColumn, wrapped at 79; names too long for
  // the first column get a line of their own.
  auto line = [&out](const std::string& names, std::string_view help) {
    constexpr size_t kColumn = 30;
    std::string text = wrap(help, kColumn, 79);
    if (text.empty()) text = "\n";
    if (names.size() + 4 > kColumn) out += fmt::format("   {}\n", names);
    out += names.size() + 4 > kColumn ? text
                                      : fmt::format("   {:<{}}", names, kColumn - 3) +
                                            text.substr(std::min(text.size(), kColumn));
  };
  for (const auto& s : specs) {
    std::string names = fmt::format("--{}", s.long_name);
    if (s.short_name != 0) names += fmt::format(", -{}", s.short_name);
    if (s.takes_value) names += fmt::format(" {}", s.value_name ? s.value_name : "value");
    line(names, s.help ? s.help : "");
  }
  if (add_help) line("--help, -h", "show this help");
  return out;
}

std::string command_help(const Command& c) {
  std::string out = fmt::format("Usage: husk {}\n\n", c.usage);
  out += wrap(fmt::format("husk {}: {}", c.name, c.summary), 0, 79) + "\n";
  if (c.description != nullptr) out += wrap(c.description, 0, 79) + "\n";
  out += "Options:\n" + options_help(c.options, true);
  return out;
}

}  // namespace husk::cli
