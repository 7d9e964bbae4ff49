#include "spec/diagnostics.hpp"

#include <algorithm>
#include <cctype>
#include <numeric>

#include "spec/json_write.hpp"

namespace husk::spec {

std::pair<std::string, std::string> split_path_message(std::string_view line) {
  bool quoted = false;
  for (size_t i = 0; i + 1 < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        quoted = false;
      }
      continue;
    }
    if (c == '"' && i > 0 && line[i - 1] == '[') {
      quoted = true;
    } else if (c == ':' && line[i + 1] == ' ') {
      return {std::string(line.substr(0, i)), std::string(line.substr(i + 2))};
    } else if (c == ' ') {
      break;  // a path has no spaces outside quoted keys: this is text
    }
  }
  return {std::string(), std::string(line)};
}

bool Diagnostics::take(const Status& s) {
  if (s) return true;
  error(s.error());
  return false;
}

void Diagnostics::error(const Error& e) {
  auto [path, message] = split_path_message(e.message());
  push(Diagnostic{Severity::Error, std::move(path), std::move(message), {}});
  if (!first_error_) first_error_ = e;
}

void Diagnostics::add(Severity sev, std::string path, std::string message, std::string suggestion) {
  if (sev == Severity::Error && !first_error_) {
    first_error_ = path.empty() ? Error::spec("{}", message) : Error::spec("{}: {}", path, message);
  }
  push(Diagnostic{sev, std::move(path), std::move(message), std::move(suggestion)});
}

void Diagnostics::warning(std::string_view line) {
  auto [path, message] = split_path_message(line);
  push(Diagnostic{Severity::Warning, std::move(path), std::move(message), {}});
}

void Diagnostics::push(Diagnostic d) {
  const bool seen = std::any_of(items_.begin(), items_.end(), [&](const Diagnostic& o) {
    return o.severity == d.severity && o.path == d.path && o.message == d.message;
  });
  if (!seen) items_.push_back(std::move(d));
}

bool Diagnostics::has_error_at_or_above(std::string_view path) const {
  return std::any_of(items_.begin(), items_.end(), [&](const Diagnostic& d) {
    if (d.severity != Severity::Error || !path.starts_with(d.path)) return false;
    if (d.path.empty() || path.size() == d.path.size()) return true;
    const char next = path[d.path.size()];
    return next == '.' || next == '[';
  });
}

std::vector<std::string> Diagnostics::warning_lines() const {
  std::vector<std::string> out;
  for (const auto& d : items_) {
    if (d.severity != Severity::Warning) continue;
    out.push_back(d.path.empty() ? d.message : d.path + ": " + d.message);
  }
  return out;
}

size_t edit_distance(std::string_view a, std::string_view b, size_t cap) {
  const size_t diff = a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
  if (diff > cap) return cap + 1;
  // One row of the classic dynamic programme; row[j] = distance(a[..i], b[..j]).
  std::vector<size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    size_t best = row[0];
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({row[j - 1] + 1, up + 1, diag + cost});
      diag = up;
      best = std::min(best, row[j]);
    }
    if (best > cap) return cap + 1;
  }
  return std::min(row[b.size()], cap + 1);
}

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::optional<std::string_view> near_miss(std::string_view word,
                                          std::span<const std::string_view> candidates) {
  const size_t cap = word.size() <= 4 ? 1 : 2;
  const std::string w = lower(word);
  std::optional<std::string_view> best;
  size_t best_d = cap + 1;
  for (const auto c : candidates) {
    if (c == word) return std::nullopt;  // known: no typo
    const size_t d = edit_distance(w, lower(c), cap);
    if (d < best_d) {
      best = c;
      best_d = d;
    }
  }
  return best;
}

std::string diagnostic_line(const Diagnostic& d) {
  std::string out = d.severity == Severity::Error ? "error: " : "warning: ";
  if (!d.path.empty()) out += d.path + ": ";
  out += d.message;
  if (!d.suggestion.empty()) out += fmt::format("; did you mean \"{}\"?", d.suggestion);
  return out;
}

std::string diagnostics_json(const Diagnostics& d) {
  json::Buffer buf;
  json::Compact w(buf);
  w.StartObject();
  json::key(w, "findings");
  w.StartArray();
  for (const auto& f : d.items()) {
    w.StartObject();
    json::kv(w, "severity", f.severity == Severity::Error ? "error" : "warning");
    json::kv(w, "path", f.path);
    json::kv(w, "message", f.message);
    if (!f.suggestion.empty()) json::kv(w, "suggestion", f.suggestion);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace husk::spec
