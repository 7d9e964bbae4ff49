// The JSON side of the cases: YAML patches become RapidJSON values merged onto
// the base config, and a step's JSON output is matched against a YAML subset.
#pragma once

#include <rapidjson/document.h>
#include <yaml-cpp/yaml.h>

#include <functional>
#include <string>

#include "base/result.hpp"

namespace husk::conformance {

// ${name} placeholders in strings are replaced by this function's answer.
using Substitute = std::function<std::string(const std::string&)>;

// A YAML node as JSON. Quoted scalars stay strings; plain scalars become
// null, booleans or numbers when they read as such (YAML 1.2 core schema).
Result<void> yaml_to_json(const YAML::Node& n, rapidjson::Value& out,
                          rapidjson::Document::AllocatorType& alloc, const Substitute& sub);

// Merges patch into base: objects merge key by key, null deletes the key,
// "key+" appends the patch's array to base's "key" array, anything else
// replaces.
void merge(rapidjson::Value& base, const rapidjson::Value& patch,
           rapidjson::Document::AllocatorType& alloc);

// Checks actual against the YAML subset want; returns the first mismatch as
// "path: reason", or "" when it matches. Markers: "<any>", "<absent>",
// "<pid>" (an integer > 0), "<nonempty>" (a non-empty string), "<abspath>";
// a map {$contains: [..]} / {$lacks: [..]} checks an array's members.
std::string match(const YAML::Node& want, const rapidjson::Value* actual, const std::string& path,
                  const Substitute& sub);

std::string to_string(const rapidjson::Value& v, bool pretty = false);

}  // namespace husk::conformance
