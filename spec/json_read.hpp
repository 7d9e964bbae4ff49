// Internal to spec/: strict, path-tracking readers over a RapidJSON DOM.
// Every error names the JSON path of the offending value, e.g.
// `process.user.uid: expected an unsigned 32-bit integer, got -1`.
// `null` counts as absent (as Go's encoding/json, which runc uses, treats it).
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "base/result.hpp"

namespace husk::spec::json {

using Value = rapidjson::Value;

// Parse a whole document; error carries the byte offset, line and column.
Status parse_document(std::string_view text, rapidjson::Document& doc);

// "-1", "\"abc\"", "1.5", "true", "null", "an object", "an array".
std::string describe(const Value& v);

std::string member_path(const std::string& parent, std::string_view key);  // a.b
std::string index_path(const std::string& parent, size_t i);               // a[3]
std::string key_path(const std::string& parent, std::string_view key);     // a["k"]

Error type_error(const Value& v, const std::string& path, std::string_view expected);

Status read(const Value& v, const std::string& path, bool& out);
Status read(const Value& v, const std::string& path, std::string& out);

template <typename T>
constexpr std::string_view integer_kind() {
  if constexpr (std::is_same_v<T, uint16_t>)
    return "an unsigned 16-bit integer";
  else if constexpr (std::is_same_v<T, uint32_t>)
    return "an unsigned 32-bit integer";
  else if constexpr (std::is_same_v<T, uint64_t>)
    return "an unsigned 64-bit integer";
  else if constexpr (std::is_same_v<T, int32_t>)
    return "a 32-bit integer";
  else
    return "a 64-bit integer";
}

// JSON integers only: 1.0 and 1e3 are rejected as Go rejects them for
// integer fields.
template <typename T>
requires(std::is_integral_v<T> && !std::is_same_v<T, bool>) Status
    read(const Value& v, const std::string& path, T& out) {
  if constexpr (std::is_signed_v<T>) {
    if (v.IsInt64()) {
      const int64_t x = v.GetInt64();
      if (x >= std::numeric_limits<T>::min() && x <= std::numeric_limits<T>::max()) {
        out = static_cast<T>(x);
        return {};
      }
    }
  } else {
    if (v.IsUint64()) {
      const uint64_t x = v.GetUint64();
      if (x <= std::numeric_limits<T>::max()) {
        out = static_cast<T>(x);
        return {};
      }
    }
  }
  return type_error(v, path, integer_kind<T>());
}

template <typename T>
Status read(const Value& v, const std::string& path, std::vector<T>& out);
template <typename T>
Status read(const Value& v, const std::string& path, std::map<std::string, T>& out);

template <typename T>
Status read(const Value& v, const std::string& path, std::vector<T>& out) {
  if (!v.IsArray()) return type_error(v, path, "an array");
  out.clear();
  out.reserve(v.Size());
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    T item{};
    TRY(read(v[i], index_path(path, i), item));
    out.push_back(std::move(item));
  }
  return {};
}

// A JSON object used as a string-keyed map; a repeated key keeps the last
// value, as Go does.
template <typename T>
Status read(const Value& v, const std::string& path, std::map<std::string, T>& out) {
  if (!v.IsObject()) return type_error(v, path, "an object");
  out.clear();
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
    std::string key(it->name.GetString(), it->name.GetStringLength());
    T item{};
    TRY(read(it->value, key_path(path, key), item));
    out[std::move(key)] = std::move(item);
  }
  return {};
}

// A view of one JSON object at a known path.
class Object {
 public:
  static Result<Object> of(const Value& v, std::string path);

  // The member's value, or nullptr when absent or null. A repeated key
  // yields its last occurrence.
  [[nodiscard]] const Value* find(std::string_view key) const;
  [[nodiscard]] std::string path_of(std::string_view key) const { return member_path(path_, key); }
  [[nodiscard]] const std::string& path() const { return path_; }

  template <typename T>
  Status req(std::string_view key, T& out) const {
    const Value* v = find(key);
    if (v == nullptr) return Error::spec("{}: required", path_of(key));
    return read(*v, path_of(key), out);
  }
  template <typename T>
  Status opt(std::string_view key, T& out) const {
    const Value* v = find(key);
    if (v == nullptr) return {};
    return read(*v, path_of(key), out);
  }
  template <typename T>
  Status opt(std::string_view key, std::optional<T>& out) const {
    const Value* v = find(key);
    if (v == nullptr) return {};
    T item{};
    TRY(read(*v, path_of(key), item));
    out = std::move(item);
    return {};
  }

 private:
  Object(const Value* v, std::string path) : v_(v), path_(std::move(path)) {}
  const Value* v_;
  std::string path_;
};

}  // namespace husk::spec::json
