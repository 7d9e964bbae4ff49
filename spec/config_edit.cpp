#include "spec/config_edit.hpp"

#include "spec/json_read.hpp"
#include "spec/json_write.hpp"

namespace husk::spec {

namespace {

using Alloc = rapidjson::Document::AllocatorType;

rapidjson::Value string_value(std::string_view s, Alloc& a) {
  return {s.data(), static_cast<rapidjson::SizeType>(s.size()), a};
}

rapidjson::Value strings_value(const std::vector<std::string>& items, Alloc& a) {
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& s : items) arr.PushBack(string_value(s, a), a);
  return arr;
}

rapidjson::Value hook_value(const Hook& h, Alloc& a) {
  rapidjson::Value o(rapidjson::kObjectType);
  o.AddMember("path", string_value(h.path, a), a);
  if (!h.args.empty()) o.AddMember("args", strings_value(h.args, a), a);
  if (!h.env.empty()) o.AddMember("env", strings_value(h.env, a), a);
  if (h.timeout) o.AddMember("timeout", *h.timeout, a);
  return o;
}

void add_stage(rapidjson::Value& hooks, const char* key, const std::vector<Hook>& list, Alloc& a) {
  if (list.empty()) return;
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& h : list) arr.PushBack(hook_value(h, a), a);
  hooks.AddMember(rapidjson::StringRef(key), arr, a);
}

}  // namespace

Result<std::string> with_hooks(std::string_view config_json, const Hooks& hooks) {
  rapidjson::Document doc;
  TRY(json::parse_document(config_json, doc));
  if (!doc.IsObject()) return Error::spec("config.json: not a JSON object");
  auto& a = doc.GetAllocator();
  rapidjson::Value v(rapidjson::kObjectType);
  add_stage(v, "prestart", hooks.prestart, a);
  add_stage(v, "createRuntime", hooks.create_runtime, a);
  add_stage(v, "createContainer", hooks.create_container, a);
  add_stage(v, "startContainer", hooks.start_container, a);
  add_stage(v, "poststart", hooks.poststart, a);
  add_stage(v, "poststop", hooks.poststop, a);
  doc.RemoveMember("hooks");
  doc.AddMember("hooks", v, a);
  json::Buffer buf;
  json::Compact w(buf);
  doc.Accept(w);
  return json::take(buf);
}

}  // namespace husk::spec
