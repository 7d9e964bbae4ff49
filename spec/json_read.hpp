// Strict, path-tracking readers over a RapidJSON DOM, for every JSON husk
// reads (spec/, the cgroup record).
// Every error names the JSON path of the offending value, e.g.
// `process.user.uid: expected an unsigned 32-bit integer, got -1`.
// `null` counts as absent (as Go's encoding/json, which runc uses, treats it).
#pragma once

#include <fmt/format.h>
#include <rapidjson/document.h>

#include <cstddef>
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

// The same, about a third faster on string-heavy text: parses a copy of text
// in place (rapidjson's in-situ mode, no second copy of every string), so the
// DOM's strings point into `buf`, which must outlive `doc`. For the hot
// paths (`list` reads one state record per container).
Status parse_document_in(std::string_view text, std::string& buf, rapidjson::Document& doc);

// "-1", "\"abc\"", "1.5", "true", "null", "an object", "an array".
std::string describe(const Value& v);

// The JSON path of a value, e.g. `linux.seccomp.syscalls[12].names[3]`,
// kept as a link to its parent plus one step and spelled out only by str()
// (or when formatted). Paths appear in error messages alone, and a config
// with a seccomp profile holds hundreds of values: building every path as a
// string up front made parse_config nearly twice as slow.
//
// Lifetime rule: a Path refers to its parent and, for member and map-key
// steps, to the key's characters without copying them. The readers descend
// recursively and a child only lives inside the call that reads its value,
// so the parent outlives it; member keys are string literals and map keys
// are the Document's own member names, which live as long as the Document.
// Do not keep a Path beyond the read that received it.
class Survey;
class Path {
 public:
  // The root, spelled "" (a whole document).
  constexpr Path() = default;
  // A root spelled by a string literal (consteval: nothing that could
  // dangle converts implicitly). "" keeps Object::of(doc, "") working.
  consteval Path(const char* root) : text_(root) {}
  // The whole document, read leniently (see Survey).
  explicit constexpr Path(Survey* survey) : survey_(survey) {}

  // parent.name, or name alone below an empty path.
  static constexpr Path member(const Path& parent, std::string_view name) {
    return Path(&parent, Step::Member, name, 0);
  }
  // parent[i]
  static constexpr Path index(const Path& parent, size_t i) {
    return Path(&parent, Step::Index, {}, i);
  }
  // parent["name"], the map key quoted as a JSON string (and shortened as
  // values are in messages).
  static constexpr Path key(const Path& parent, std::string_view name) {
    return Path(&parent, Step::Key, name, 0);
  }

  [[nodiscard]] std::string str() const;
  // The root's Survey, or null for a strict read.
  [[nodiscard]] Survey* survey() const;

 private:
  enum class Step : uint8_t { Root, Member, Index, Key };
  constexpr Path(const Path* parent, Step step, std::string_view text, size_t i)
      : parent_(parent), step_(step), text_(text), index_(i) {}
  void append_to(std::string& out) const;

  const Path* parent_ = nullptr;
  Step step_ = Step::Root;
  std::string_view text_;  // root spelling, member name or map key
  size_t index_ = 0;
  Survey* survey_ = nullptr;  // roots only
};

// A lenient read, for `husk check`: a member whose value is wrong (type,
// range, a required one missing) is recorded here and left unset, and the
// read goes on, so every such error is found in one pass. It also keeps,
// per JSON object read, the member names the reader asked for: the schema
// as the readers know it, against which unknown members are judged.
// Free-form maps (annotations, sysctl, ...) are not objects of the schema
// and are not kept.
class Survey {
 public:
  struct Seen {
    const Value* object = nullptr;
    std::string path;                    // of the object
    std::vector<std::string_view> keys;  // the members the reader asked for
  };
  void error(Error e) { errors_.push_back(std::move(e)); }
  // Returns the object's slot, for asked().
  size_t object(const Value& v, const Path& path);
  void asked(size_t slot, std::string_view key) { objects_[slot].keys.push_back(key); }

  [[nodiscard]] const std::vector<Error>& errors() const { return errors_; }
  // Every object read, in the order the readers met them.
  [[nodiscard]] const std::vector<Seen>& objects() const { return objects_; }

 private:
  std::vector<Error> errors_;
  std::vector<Seen> objects_;
};

}  // namespace husk::spec::json

// So that Error::spec("{}: ...", path) spells the path out, and only then.
// Declared before any code below formats a Path (Object::req does, outside
// any template parameter), as a specialization must precede its first use.
template <>
struct fmt::formatter<husk::spec::json::Path> : fmt::formatter<std::string_view> {
  template <typename FormatContext>
  auto format(const husk::spec::json::Path& p, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format(p.str(), ctx);
  }
};

namespace husk::spec::json {

Error type_error(const Value& v, const Path& path, std::string_view expected);

Status read(const Value& v, const Path& path, bool& out);
Status read(const Value& v, const Path& path, std::string& out);

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
    read(const Value& v, const Path& path, T& out) {
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
Status read(const Value& v, const Path& path, std::vector<T>& out);
template <typename T>
Status read(const Value& v, const Path& path, std::map<std::string, T>& out);

template <typename T>
Status read(const Value& v, const Path& path, std::vector<T>& out) {
  if (!v.IsArray()) return type_error(v, path, "an array");
  out.clear();
  out.reserve(v.Size());
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    T item{};
    TRY(read(v[i], Path::index(path, i), item));
    out.push_back(std::move(item));
  }
  return {};
}

// A JSON object used as a string-keyed map; a repeated key keeps the last
// value, as Go does.
template <typename T>
Status read(const Value& v, const Path& path, std::map<std::string, T>& out) {
  if (!v.IsObject()) return type_error(v, path, "an object");
  out.clear();
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
    // The key's characters belong to the Document, which outlives the path.
    const std::string_view key(it->name.GetString(), it->name.GetStringLength());
    T item{};
    TRY(read(it->value, Path::key(path, key), item));
    out[std::string(key)] = std::move(item);
  }
  return {};
}

// A view of one JSON object at a known path. It holds its Path by value;
// the paths of its members point at that copy, so they must not outlive the
// Object (they are temporaries of the member's read).
class Object {
 public:
  static Result<Object> of(const Value& v, const Path& path);

  // The member's value, or nullptr when absent or null. A repeated key
  // yields its last occurrence.
  [[nodiscard]] const Value* find(std::string_view key) const;
  // `key` must outlive the returned Path: pass a string literal.
  [[nodiscard]] Path path_of(std::string_view key) const { return Path::member(path_, key); }
  [[nodiscard]] const Path& path() const { return path_; }

  template <typename T>
  Status req(std::string_view key, T& out) const {
    const Value* v = find(key);
    if (v == nullptr) return settle(Error::spec("{}: required", path_of(key)));
    return settle(read(*v, path_of(key), out));
  }
  template <typename T>
  Status opt(std::string_view key, T& out) const {
    const Value* v = find(key);
    if (v == nullptr) return {};
    return settle(read(*v, path_of(key), out));
  }
  template <typename T>
  Status opt(std::string_view key, std::optional<T>& out) const {
    const Value* v = find(key);
    if (v == nullptr) return {};
    T item{};
    if (auto st = read(*v, path_of(key), item); !st) return settle(std::move(st));
    out = std::move(item);
    return {};
  }
  // A member's error: returned by a strict read, recorded (and success
  // returned) by a lenient one.
  [[nodiscard]] Status settle(Status st) const;

 private:
  Object(const Value* v, const Path& path) : v_(v), path_(path), survey_(path.survey()) {}
  const Value* v_;
  Path path_;
  Survey* survey_;
  size_t slot_ = 0;  // in survey_->objects()
};

}  // namespace husk::spec::json
