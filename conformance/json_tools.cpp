#include "json_tools.hpp"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <charconv>
#include <string_view>

namespace husk::conformance {
namespace {

bool is_plain(const YAML::Node& n) { return n.Tag() == "?"; }

void set_scalar(const YAML::Node& n, rapidjson::Value& out,
                rapidjson::Document::AllocatorType& alloc, const Substitute& sub) {
  const std::string& s = n.Scalar();
  if (is_plain(n)) {
    if (s.empty() || s == "~" || s == "null") {
      out.SetNull();
      return;
    }
    if (s == "true" || s == "false") {
      out.SetBool(s == "true");
      return;
    }
    int64_t i = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
    if (ec == std::errc() && p == s.data() + s.size()) {
      out.SetInt64(i);
      return;
    }
    uint64_t u = 0;
    auto [pu, ecu] = std::from_chars(s.data(), s.data() + s.size(), u);
    if (ecu == std::errc() && pu == s.data() + s.size()) {
      out.SetUint64(u);
      return;
    }
  }
  std::string v = sub(s);
  out.SetString(v.data(), static_cast<rapidjson::SizeType>(v.size()), alloc);
}

// Scalars of either side compared as text: YAML has no types until read.
std::string scalar_text(const rapidjson::Value& v) {
  if (v.IsString()) return v.GetString();
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsNull()) return "null";
  return to_string(v);
}

std::string match_array(const YAML::Node& want, const rapidjson::Value& a, const std::string& path,
                        const Substitute& sub) {
  if (!a.IsArray()) return path + ": expected an array, got " + to_string(a);
  if (want.IsMap()) {
    for (const auto& kv : want) {
      auto op = kv.first.as<std::string>();
      for (const auto& item : kv.second) {
        std::string w = sub(item.as<std::string>());
        bool found = false;
        for (const auto& e : a.GetArray()) found = found || scalar_text(e) == w;
        if (op == "$contains" && !found) return fmt::format("{}: lacks {}", path, w);
        if (op == "$lacks" && found) return fmt::format("{}: has {}", path, w);
        if (op != "$contains" && op != "$lacks") {
          return fmt::format("{}: unknown operator {}", path, op);
        }
      }
    }
    return "";
  }
  if (want.size() != a.Size()) {
    return fmt::format("{}: expected {} elements, got {}", path, want.size(), to_string(a));
  }
  for (rapidjson::SizeType i = 0; i < a.Size(); ++i) {
    auto m = match(want[i], &a[i], fmt::format("{}[{}]", path, i), sub);
    if (!m.empty()) return m;
  }
  return "";
}

std::string match_marker(const std::string& w, const rapidjson::Value& a, const std::string& path) {
  if (w == "<any>") return "";
  if (w == "<pid>") {
    return a.IsInt64() && a.GetInt64() > 0 ? "" : path + ": expected a pid, got " + to_string(a);
  }
  if (w == "<nonempty>") {
    return a.IsString() && a.GetStringLength() > 0 ? "" : path + ": expected a non-empty string";
  }
  if (w == "<abspath>") {
    return a.IsString() && a.GetString()[0] == '/'
               ? ""
               : path + ": expected an absolute path, got " + to_string(a);
  }
  return path + ": unknown marker " + w;
}

}  // namespace

Result<void> yaml_to_json(const YAML::Node& n, rapidjson::Value& out,
                          rapidjson::Document::AllocatorType& alloc, const Substitute& sub) {
  try {
    switch (n.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        out.SetNull();
        return {};
      case YAML::NodeType::Scalar:
        set_scalar(n, out, alloc, sub);
        return {};
      case YAML::NodeType::Sequence:
        out.SetArray();
        for (const auto& e : n) {
          rapidjson::Value v;
          TRY(yaml_to_json(e, v, alloc, sub));
          out.PushBack(v, alloc);
        }
        return {};
      case YAML::NodeType::Map:
        out.SetObject();
        for (const auto& kv : n) {
          std::string k = kv.first.as<std::string>();
          rapidjson::Value key(k.data(), static_cast<rapidjson::SizeType>(k.size()), alloc);
          rapidjson::Value v;
          TRY(yaml_to_json(kv.second, v, alloc, sub));
          out.AddMember(key, v, alloc);
        }
        return {};
    }
  } catch (const YAML::Exception& e) {
    return Error::spec("YAML to JSON: {}", e.what());
  }
  return {};
}

void merge(rapidjson::Value& base, const rapidjson::Value& patch,
           rapidjson::Document::AllocatorType& alloc) {
  if (!base.IsObject() || !patch.IsObject()) {
    base.CopyFrom(patch, alloc);
    return;
  }
  // Const iterators and lookups by name: RapidJSON's non-const member
  // iterators compare ambiguously under C++20's reversed operators.
  for (auto m = patch.MemberBegin(); m != patch.MemberEnd(); ++m) {
    std::string_view key(m->name.GetString(), m->name.GetStringLength());
    bool append = key.size() > 1 && key.back() == '+';
    if (append) key.remove_suffix(1);
    rapidjson::Value name(key.data(), static_cast<rapidjson::SizeType>(key.size()), alloc);
    if (m->value.IsNull()) {
      base.RemoveMember(name);
      continue;
    }
    if (!base.HasMember(name)) {
      rapidjson::Value v;
      v.CopyFrom(m->value, alloc);
      base.AddMember(name, v, alloc);
      continue;
    }
    rapidjson::Value& cur = base[name];
    if (append && cur.IsArray() && m->value.IsArray()) {
      for (const auto& e : m->value.GetArray()) {
        rapidjson::Value v;
        v.CopyFrom(e, alloc);
        cur.PushBack(v, alloc);
      }
    } else if (cur.IsObject() && m->value.IsObject()) {
      merge(cur, m->value, alloc);
    } else {
      cur.CopyFrom(m->value, alloc);
    }
  }
}

std::string match(const YAML::Node& want, const rapidjson::Value* actual, const std::string& path,
                  const Substitute& sub) {
  if (want.IsScalar() && want.Scalar() == "<absent>") {
    return actual == nullptr ? "" : path + ": expected absent, got " + to_string(*actual);
  }
  if (actual == nullptr) return path + ": missing";
  const rapidjson::Value& a = *actual;
  if (want.IsMap()) {
    if (want["$contains"] || want["$lacks"]) return match_array(want, a, path, sub);
    if (!a.IsObject()) return path + ": expected an object, got " + to_string(a);
    for (const auto& kv : want) {
      auto k = kv.first.as<std::string>();
      auto it = a.FindMember(k.c_str());
      auto m = match(kv.second, it == a.MemberEnd() ? nullptr : &it->value,
                     fmt::format("{}.{}", path, k), sub);
      if (!m.empty()) return m;
    }
    return "";
  }
  if (want.IsSequence()) return match_array(want, a, path, sub);
  std::string w = want.Scalar();
  if (w.size() > 2 && w.front() == '<' && w.back() == '>') return match_marker(w, a, path);
  w = sub(w);
  if (a.IsObject() || a.IsArray()) return path + ": expected " + w + ", got " + to_string(a);
  std::string got = scalar_text(a);
  return got == w ? "" : fmt::format("{}: expected {}, got {}", path, w, got);
}

std::string to_string(const rapidjson::Value& v, bool pretty) {
  rapidjson::StringBuffer buf;
  if (pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.SetIndent(' ', 2);
    v.Accept(w);
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    v.Accept(w);
  }
  return {buf.GetString(), buf.GetSize()};
}

}  // namespace husk::conformance
