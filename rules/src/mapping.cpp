// SPDX-License-Identifier: Apache-2.0
/// Reads the mapping file with yaml-cpp; exceptions are caught here and become `Error`s.
#include "mapping.hpp"

#include <fstream>
#include <sstream>

namespace sluice::rules::detail {
namespace {

std::string scalar_lower(const YAML::Node& n) {
  std::string s = n && n.IsScalar() ? n.Scalar() : std::string{};
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void read_fields(const YAML::Node& node, std::map<std::string, std::vector<std::string>>& out) {
  if (!node || !node.IsMap()) return;
  for (const auto& kv : node) {
    auto& targets = out[kv.first.as<std::string>()];
    if (kv.second.IsSequence()) {
      for (const auto& t : kv.second)
        targets.push_back(t.as<std::string>());
    } else {
      targets.push_back(kv.second.as<std::string>());
    }
  }
}

bool matches(const std::string& want, const std::string& have) {
  return want == "*" || want == have;
}

}  // namespace

const LogSourceMapping* Mapping::find(const LogSource& ls) const {
  for (const auto& m : logsources)
    if (matches(m.product, ls.product) && matches(m.category, ls.category) &&
        matches(m.service, ls.service))
      return &m;
  return nullptr;
}

std::vector<std::string> Mapping::map_field(const LogSourceMapping& ls,
                                            const std::string& field) const {
  if (auto it = ls.fields.find(field); it != ls.fields.end() && !it->second.empty())
    return it->second;
  if (auto it = fields.find(field); it != fields.end() && !it->second.empty()) return it->second;
  return {field};
}

Result<Mapping> load_mapping(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::from_errno("cannot open mapping file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  Mapping m;
  m.path = path;
  try {
    const YAML::Node root = YAML::Load(ss.str());
    if (!root.IsMap()) return Error{path + ": the mapping file must be a YAML map"};
    if (const YAML::Node ef = root["event_fields"]) {
      if (const YAML::Node p = ef["strip_prefixes"])
        for (const auto& x : p)
          m.normalizer.strip_prefixes.push_back(x.as<std::string>());
      if (const YAML::Node r = ef["remove_spaces"]) m.normalizer.remove_spaces = r.as<bool>();
      if (const YAML::Node a = ef["aliases"])
        for (const auto& kv : a)
          m.normalizer.aliases.emplace(kv.first.as<std::string>(), kv.second.as<std::string>());
    }
    read_fields(root["fields"], m.fields);
    read_fields(root["placeholders"], m.placeholders);
    const YAML::Node ls = root["logsources"];
    if (!ls || !ls.IsSequence()) return Error{path + ": 'logsources' must be a list"};
    for (const auto& entry : ls) {
      LogSourceMapping e;
      e.name = entry["name"] ? entry["name"].as<std::string>() : std::string{};
      e.product = scalar_lower(entry["product"]);
      e.category = scalar_lower(entry["category"]);
      e.service = scalar_lower(entry["service"]);
      read_fields(entry["fields"], e.fields);
      if (const YAML::Node c = entry["conditions"]) {
        std::string error;
        if (!parse_search_identifier("logsource " + e.name, c, e.predicate, error))
          return Error{path + ": logsource '" + e.name + "': conditions: " + error};
      }
      m.logsources.push_back(std::move(e));
    }
  } catch (const YAML::Exception& e) {
    return Error{path + ": " + e.what()};
  }
  return m;
}

}  // namespace sluice::rules::detail
