#include "spec/json_read.hpp"

#include <fmt/format.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstring>

namespace husk::spec::json {
namespace {

constexpr size_t kMaxShown = 64;  // longest string echoed back in an error

std::string quoted(std::string_view s) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  const bool cut = s.size() > kMaxShown;
  if (cut) s = s.substr(0, kMaxShown);
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  std::string out(buf.GetString(), buf.GetSize());
  if (cut) out.insert(out.size() - 1, "...");
  return out;
}

}  // namespace

Status parse_document(std::string_view text, rapidjson::Document& doc) {
  // Iterative parsing: same grammar as the default flags, but nesting depth
  // cannot exhaust the stack.
  doc.Parse<rapidjson::kParseDefaultFlags | rapidjson::kParseIterativeFlag>(text.data(),
                                                                            text.size());
  if (!doc.HasParseError()) return {};
  const size_t off = doc.GetErrorOffset();
  size_t line = 1;
  size_t col = 1;
  for (size_t i = 0; i < off && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return Error::spec("invalid JSON at offset {} (line {}, column {}): {}", off, line, col,
                     rapidjson::GetParseError_En(doc.GetParseError()));
}

Status parse_document_in(std::string_view text, std::string& buf, rapidjson::Document& doc) {
  // In situ, the text ends at its first NUL: one inside it must fail as in
  // parse_document, which also gives an error the original's line and column.
  if (text.find('\0') == std::string_view::npos) {
    buf.assign(text);
    doc.ParseInsitu<rapidjson::kParseDefaultFlags | rapidjson::kParseIterativeFlag>(buf.data());
    if (!doc.HasParseError()) return {};
  }
  return parse_document(text, doc);
}

std::string describe(const Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      return "null";
    case rapidjson::kFalseType:
      return "false";
    case rapidjson::kTrueType:
      return "true";
    case rapidjson::kObjectType:
      return "an object";
    case rapidjson::kArrayType:
      return "an array";
    case rapidjson::kStringType:
      return quoted(std::string_view(v.GetString(), v.GetStringLength()));
    case rapidjson::kNumberType:
      break;
  }
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  // Shortest round-trip form, keeping a visible fraction: "1.0", "1.5e+20".
  std::string out = fmt::format("{}", v.GetDouble());
  if (out.find_first_of(".eEn") == std::string::npos) out += ".0";
  return out;
}

std::string Path::str() const {
  std::string out;
  append_to(out);
  return out;
}

// Same spelling as when each path was built eagerly: the chain is walked
// root first, so the recursion is as deep as the schema (a few levels).
void Path::append_to(std::string& out) const {
  if (parent_ != nullptr) parent_->append_to(out);
  switch (step_) {
    case Step::Root:
      out += text_;
      break;
    case Step::Member:
      if (!out.empty()) out += '.';
      out += text_;
      break;
    case Step::Index:
      out += '[';
      out += std::to_string(index_);
      out += ']';
      break;
    case Step::Key:
      out += '[';
      out += quoted(text_);
      out += ']';
      break;
  }
}

Survey* Path::survey() const {
  const Path* p = this;
  while (p->parent_ != nullptr) p = p->parent_;
  return p->survey_;
}

size_t Survey::object(const Value& v, const Path& path) {
  objects_.push_back(Seen{&v, path.str(), {}});
  return objects_.size() - 1;
}

Error type_error(const Value& v, const Path& path, std::string_view expected) {
  return Error::spec("{}: expected {}, got {}", path, expected, describe(v));
}

Status read(const Value& v, const Path& path, bool& out) {
  if (!v.IsBool()) return type_error(v, path, "a boolean");
  out = v.GetBool();
  return {};
}

// Strings reach C APIs (paths, argv, env) that stop at the first NUL, so an
// embedded NUL would silently change their meaning: reject it here.
Status read(const Value& v, const Path& path, std::string& out) {
  if (!v.IsString()) return type_error(v, path, "a string");
  const size_t n = v.GetStringLength();
  if (std::memchr(v.GetString(), '\0', n) != nullptr) {
    return Error::spec("{}: string contains a NUL byte", path);
  }
  out.assign(v.GetString(), n);
  return {};
}

Result<Object> Object::of(const Value& v, const Path& path) {
  if (!v.IsObject()) {
    // The whole document has the empty path; name it in words.
    std::string where = path.str();
    if (where.empty()) where = "document";
    return Error::spec("{}: expected an object, got {}", where, describe(v));
  }
  Object o(&v, path);
  if (o.survey_ != nullptr) o.slot_ = o.survey_->object(v, path);
  return o;
}

Status Object::settle(Status st) const {
  if (st || survey_ == nullptr) return st;
  survey_->error(std::move(st).error());
  return {};
}

const Value* Object::find(std::string_view key) const {
  if (survey_ != nullptr) survey_->asked(slot_, key);
  const Value* found = nullptr;
  for (auto it = v_->MemberBegin(); it != v_->MemberEnd(); ++it) {
    if (std::string_view(it->name.GetString(), it->name.GetStringLength()) == key) {
      found = &it->value;
    }
  }
  if (found != nullptr && found->IsNull()) return nullptr;
  return found;
}

}  // namespace husk::spec::json
