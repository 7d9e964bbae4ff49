// Small helpers over RapidJSON writers, for every JSON husk writes (spec/,
// the cgroup record, `events`).
#pragma once

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace husk::spec::json {

using Buffer = rapidjson::StringBuffer;
using Compact = rapidjson::Writer<Buffer>;
using Pretty = rapidjson::PrettyWriter<Buffer>;

template <typename W>
void str(W& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

template <typename W>
void key(W& w, std::string_view k) {
  w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
}

template <typename W>
void kv(W& w, std::string_view k, std::string_view v) {
  key(w, k);
  str(w, v);
}

template <typename W, typename S>
void str_array(W& w, std::span<const S> items) {
  w.StartArray();
  for (const auto& s : items) str(w, s);
  w.EndArray();
}

template <typename W>
void str_array(W& w, const std::vector<std::string>& items) {
  str_array(w, std::span<const std::string>(items));
}

template <typename W>
void str_map(W& w, const std::map<std::string, std::string>& m) {
  w.StartObject();
  for (const auto& [k, v] : m) kv(w, k, v);
  w.EndObject();
}

inline std::string take(const Buffer& b) { return std::string(b.GetString(), b.GetSize()); }

}  // namespace husk::spec::json
