// SPDX-License-Identifier: Apache-2.0
/// Loading Sigma correlation rules (sigma-correlation-rules-specification.md): parsing and
/// validating the `correlation` section, resolving `rules` by id or name (base rules and other
/// correlations), `aliases`, chains and their levels, `generate`, and how each group-by field
/// is read from the events of each referenced base rule. Compile-side; `inputs_for` is the only
/// part that runs per detection.
#include "sluice/rules/correlation.hpp"

#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "mapping.hpp"
#include "sigma_document.hpp"
#include "sluice/anomaly/anomaly_stage.hpp"

namespace sluice::rules {
namespace {

namespace fs = std::filesystem;

std::string scalar(const YAML::Node& n) {
  return n && n.IsScalar() ? n.Scalar() : std::string{};
}

std::size_t line_of(const YAML::Node& n) {
  return n && n.Mark().line >= 0 ? static_cast<std::size_t>(n.Mark().line) + 1 : 0;
}

std::vector<std::string> strings(const YAML::Node& n) {
  std::vector<std::string> out;
  if (!n) return out;
  if (n.IsScalar()) out.push_back(n.Scalar());
  if (n.IsSequence())
    for (const auto& x : n)
      if (x.IsScalar()) out.push_back(x.Scalar());
  return out;
}

bool is_rule_file(const fs::path& p) {
  const std::string name = p.filename().string();
  auto ends = [&](std::string_view s) { return name.ends_with(s); };
  if (ends(".test.yml") || ends(".test.yaml")) return false;
  return ends(".yml") || ends(".yaml");
}

/// The same file walk as the Sigma loader (sorted, recursive), so both see the same documents.
void collect(const std::string& path, std::vector<std::pair<std::string, std::string>>& out) {
  std::error_code ec;
  std::vector<fs::path> files;
  try {
    if (fs::is_directory(path, ec)) {
      for (const auto& e :
           fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied))
        if (e.is_regular_file() && is_rule_file(e.path())) files.push_back(e.path());
      std::sort(files.begin(), files.end());
    } else if (fs::exists(path, ec)) {
      files.emplace_back(path);
    }
  } catch (const fs::filesystem_error&) {
    return;  // the Sigma loader reports unreadable folders
  }
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) continue;
    std::stringstream ss;
    ss << in.rdbuf();
    out.emplace_back(f.string(), ss.str());
  }
}

/// `number + letter`: s, m, h, d (spec: "Time Selection").
bool parse_timespan(const std::string& text, std::int64_t& out) {
  if (text.size() < 2) return false;
  const char unit = text.back();
  std::int64_t mult = 0;
  switch (unit) {
    case 's':
      mult = 1;
      break;
    case 'm':
      mult = 60;
      break;
    case 'h':
      mult = 3600;
      break;
    case 'd':
      mult = 86400;
      break;
    default:
      return false;
  }
  std::int64_t n = 0;
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    n = n * 10 + (text[i] - '0');
    if (n > 100'000'000) return false;
  }
  out = n * mult * 1'000'000'000;
  return n > 0;
}

struct BaseDoc {
  std::string id, name, title;
  detail::LogSource logsource;
};

/// A correlation document as written, before resolution.
struct CorrDoc {
  CorrelationRule rule;
  std::map<std::string, std::map<std::string, std::string>> aliases;  // alias -> rule -> field
  std::size_t line = 0;
};

/// How to read one group-by (or value) field from an event of one base rule.
struct FieldSource {
  std::string sigma_name;
  std::vector<std::string> names;  ///< event field names (mapped)
  std::vector<const re2::RE2*> extract;
};

struct Route {
  std::uint32_t correlation;
  std::uint16_t step;
  std::vector<FieldSource> key;
  bool has_value = false;
  FieldSource value;
};

}  // namespace

struct CorrelationSet::Family {
  std::mutex mutex;
  std::uint64_t next_generation = 1;
  std::vector<std::weak_ptr<const CorrelationSet>> members;

  template <typename Match>
  std::shared_ptr<const CorrelationSet> find(Match&& match) {
    std::lock_guard lock(mutex);
    std::shared_ptr<const CorrelationSet> found;
    std::erase_if(members, [](const auto& w) { return w.expired(); });
    for (const auto& w : members)
      if (auto s = w.lock(); s && match(*s)) found = std::move(s);
    return found;
  }
};

struct CorrelationSet::Impl {
  // Set once by `link` before other threads can see this set as a family member.
  std::shared_ptr<Family> family;
  std::uint64_t generation = 0;
  std::vector<CorrelationSpec> specs;
  std::shared_ptr<const RuleSet> base;
  std::vector<std::vector<Route>> routes;          // by base rule index
  std::vector<std::vector<Route>> anomaly_routes;  // by index into `anomaly_rules`
  std::vector<bool> anomaly_generates;
  std::vector<bool> base_generates;
  std::vector<bool> corr_generates;
  detail::FieldNormalizer normalizer;
  std::vector<std::unique_ptr<re2::RE2>> regexes;

  std::string_view lookup(const Event& e, const FieldSource& f, std::string& tmp) const {
    for (const auto& name : f.names) {
      if (name == "sluice.host") return e.host;
      if (name == "sluice.app") return e.app;
      char buf[256];
      for (const auto& field : e.fields) {
        if (field.name == name) return field.value;
        if (normalizer.normalize(field.name, buf, sizeof buf) == name) return field.value;
      }
    }
    if (!f.extract.empty()) {
      const std::string_view text = e.message.empty() ? e.raw : e.message;
      const re2::StringPiece in(text.data(), text.size());
      for (const auto* re : f.extract) {
        re2::StringPiece group;
        if (re2::RE2::PartialMatch(in, *re, &group) && !group.empty()) {
          tmp.assign(group.data(), group.size());
          return tmp;
        }
      }
    }
    return {};
  }
};

CorrelationSet::CorrelationSet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CorrelationSet::~CorrelationSet() = default;

const std::vector<CorrelationSpec>& CorrelationSet::specs() const {
  return impl_->specs;
}

bool CorrelationSet::base_generates(std::uint32_t r) const {
  return r >= impl_->base_generates.size() || impl_->base_generates[r];
}

bool CorrelationSet::correlation_generates(std::uint32_t c) const {
  return c >= impl_->corr_generates.size() || impl_->corr_generates[c];
}

const RuleSet* CorrelationSet::base_rules() const {
  return impl_->base.get();
}

std::uint64_t CorrelationSet::generation() const {
  return impl_->generation;
}

std::shared_ptr<const CorrelationSet> CorrelationSet::for_rules(const RuleSet* rules) const {
  if (!impl_->family) return nullptr;
  return impl_->family->find([&](const CorrelationSet& s) { return s.base_rules() == rules; });
}

std::shared_ptr<const CorrelationSet> CorrelationSet::for_generation(std::uint64_t g) const {
  if (!impl_->family) return nullptr;
  return impl_->family->find([&](const CorrelationSet& s) { return s.generation() == g; });
}

void CorrelationSet::link(const std::shared_ptr<const CorrelationSet>& previous,
                          const std::shared_ptr<const CorrelationSet>& next) {
  auto& family = previous->impl_->family;
  if (!family) {
    family = std::make_shared<Family>();
    family->members.push_back(previous);
  }
  std::lock_guard lock(family->mutex);
  next->impl_->family = family;
  next->impl_->generation = family->next_generation++;
  family->members.push_back(next);
}

namespace {

/// One input per route whose group-by fields (and value field) all have a value, read through
/// `lookup`; routes missing one are counted in `missing`. Returns the inputs added.
template <typename Lookup>
std::size_t append_inputs(const std::vector<Route>& routes, std::vector<CorrelationSet::Input>& out,
                          std::size_t& missing, Lookup&& lookup) {
  std::size_t added = 0;
  for (const auto& route : routes) {
    CorrelationSet::Input in{route.correlation, route.step, {}, {}};
    bool ok = true;
    for (std::size_t k = 0; k < route.key.size() && ok; ++k) {
      const std::string_view v = lookup(route.key[k]);
      if (v.empty()) ok = false;
      if (k) in.key += group_key_separator;
      in.key.append(v);
    }
    if (ok && route.has_value) {
      const std::string_view v = lookup(route.value);
      if (v.empty()) ok = false;
      in.value.assign(v);
    }
    if (!ok) {
      ++missing;
      continue;
    }
    out.push_back(std::move(in));
    ++added;
  }
  return added;
}

}  // namespace

bool CorrelationSet::consumes(std::uint32_t r) const {
  return r < impl_->routes.size() && !impl_->routes[r].empty();
}

std::size_t CorrelationSet::inputs_for(const Event& event, const Detection& d,
                                       std::vector<Input>& out, std::size_t& missing) const {
  if (d.rule_index >= impl_->routes.size()) return 0;
  std::string tmp;
  return append_inputs(impl_->routes[d.rule_index], out, missing,
                       [&](const FieldSource& f) { return impl_->lookup(event, f, tmp); });
}

namespace {
std::size_t anomaly_index(const Alert& a) {
  const AnomalyRule* rule = find_anomaly_rule(a.rule_id);
  return rule == nullptr ? std::size(anomaly_rules)
                         : static_cast<std::size_t>(rule - anomaly_rules);
}
}  // namespace

bool CorrelationSet::alert_generates(const Alert& anomaly) const {
  const std::size_t i = anomaly_index(anomaly);
  return i >= impl_->anomaly_generates.size() || impl_->anomaly_generates[i];
}

bool CorrelationSet::consumes(const Alert& anomaly) const {
  const std::size_t i = anomaly_index(anomaly);
  return i < impl_->anomaly_routes.size() && !impl_->anomaly_routes[i].empty();
}

std::size_t CorrelationSet::inputs_for(const Alert& anomaly, std::vector<Input>& out,
                                       std::size_t& missing) const {
  const std::size_t i = anomaly_index(anomaly);
  if (i >= impl_->anomaly_routes.size()) return 0;
  auto lookup = [&](const FieldSource& f) -> std::string_view {
    for (const auto& name : f.names) {
      // The header pseudo fields name the entity fields `entity_key` reads from the header, so
      // one `group-by: [sluice.host]` serves a Sigma rule and a detector alike.
      std::string_view field = name;
      if (field == "sluice.host") field = "host";
      if (field == "sluice.app") field = "app";
      if (const auto v = anomaly.field(field); !v.empty()) return v;
      if (const auto v = anomaly.field(name); !v.empty()) return v;
    }
    return {};
  };
  return append_inputs(impl_->anomaly_routes[i], out, missing, lookup);
}

Alert CorrelationSet::make_alert(const CorrelationAlert& a) const {
  const auto& rule = impl_->specs[a.correlation].rule;
  Alert out;
  out.kind = "correlation";
  out.rule_id = rule.id;
  out.rule_title = rule.title;
  out.rule_name = rule.name;
  out.correlation_type = std::string(to_string(rule.type));
  out.severity = rule.level.empty() ? "medium" : rule.level;
  out.tags = rule.tags;
  std::size_t start = 0;
  for (std::size_t i = 0; i < rule.group_by.size(); ++i) {
    const auto sep = a.key.find(group_key_separator, start);
    out.group.emplace_back(rule.group_by[i], a.key.substr(start, sep - start));
    start = sep == std::string::npos ? a.key.size() : sep + 1;
  }
  out.first_ns = a.first_ns;
  out.last_ns = a.last_ns;
  out.count = a.count;
  out.has_value = is_metric(rule.type);
  out.value = a.value;
  // Anomaly inputs have no single event (reference kind none): nothing to point at.
  for (const EventRef& r : a.refs)
    if (r.kind() != EventRef::Kind::none) out.refs.push_back(r);
  out.assign_id();
  return out;
}

namespace {

/// Parses the `correlation` section of one document; problems go to `report`.
bool parse_correlation(const YAML::Node& doc, const std::string& path, CorrDoc& out,
                       LoadReport& report) {
  auto& r = out.rule;
  r.id = scalar(doc["id"]);
  r.name = scalar(doc["name"]);
  r.title = scalar(doc["title"]);
  r.level = scalar(doc["level"]);
  r.status = scalar(doc["status"]);
  r.description = scalar(doc["description"]);
  r.tags = strings(doc["tags"]);
  r.path = path;
  r.line = out.line = line_of(doc);
  const YAML::Node c = doc["correlation"];
  auto error = [&](const std::string& message, const YAML::Node& at) {
    report.errors.push_back(
        {path, r.id, r.title, "invalid correlation", message, at ? line_of(at) : out.line});
    return false;
  };
  if (!c.IsMap()) return error("'correlation' must be a map", c);
  if (r.title.empty()) return error("the correlation rule has no 'title'", doc);
  const std::string type = scalar(c["type"]);
  if (type == "event_count") {
    r.type = CorrelationType::event_count;
  } else if (type == "value_count") {
    r.type = CorrelationType::value_count;
  } else if (type == "temporal") {
    r.type = CorrelationType::temporal;
  } else if (type == "temporal_ordered") {
    r.type = CorrelationType::temporal_ordered;
  } else if (type == "value_sum") {
    r.type = CorrelationType::value_sum;
  } else if (type == "value_avg") {
    r.type = CorrelationType::value_avg;
  } else if (type == "value_percentile") {
    r.type = CorrelationType::value_percentile;
  } else {
    return error(
        "'correlation.type' must be event_count, value_count, temporal, temporal_ordered, "
        "value_sum, value_avg or value_percentile (got '" +
            type + "')",
        c["type"] ? c["type"] : c);
  }
  r.rules = strings(c["rules"]);
  if (r.rules.empty()) return error("'correlation.rules' names no rule", c);
  r.group_by = strings(c["group-by"]);
  if (r.group_by.empty())
    return error("'correlation.group-by' is mandatory (one or more fields)", c);
  if (!parse_timespan(scalar(c["timespan"]), r.timespan_ns))
    return error("'correlation.timespan' must be a number and s, m, h or d (e.g. 90m), got '" +
                     scalar(c["timespan"]) + "'",
                 c["timespan"] ? c["timespan"] : c);
  const YAML::Node generate = c["generate"] ? c["generate"] : doc["generate"];
  if (generate) {
    const std::string g = scalar(generate);
    if (g != "true" && g != "false") return error("'generate' must be true or false", generate);
    r.generate = g == "true";
  }
  const YAML::Node cond = c["condition"];
  const bool metric = is_metric(r.type);
  const bool counts =
      r.type == CorrelationType::event_count || r.type == CorrelationType::value_count || metric;
  if (!cond) {
    if (counts) return error("'correlation.condition' is mandatory for " + type, c);
    r.condition.min = r.rules.size();
  } else {
    if (!cond.IsMap()) return error("'correlation.condition' must be a map (gte: 10)", cond);
    bool any = false;
    for (const auto& kv : cond) {
      const std::string key = kv.first.as<std::string>();
      if (key == "field") {
        r.value_field = scalar(kv.second);
        continue;
      }
      if (metric) {
        // Spec v2.1: the metric types compare "to an integer or float threshold".
        double x = 0;
        try {
          x = kv.second.as<double>();
        } catch (const YAML::Exception&) {
          return error("condition '" + key + "' needs a number", kv.second);
        }
        if (!std::isfinite(x)) return error("condition '" + key + "' needs a number", kv.second);
        if (r.type == CorrelationType::value_percentile && (x < 0 || x > 100))
          return error("value_percentile compares a percentage: condition '" + key +
                           "' must be between 0 and 100",
                       kv.second);
        any = true;
        auto& vc = r.value_condition;
        auto lower = [&](double v, bool inclusive) {
          if (v > vc.min || (v == vc.min && !inclusive)) {
            vc.min = v;
            vc.min_inclusive = inclusive;
          }
        };
        auto upper = [&](double v, bool inclusive) {
          if (v < vc.max || (v == vc.max && !inclusive)) {
            vc.max = v;
            vc.max_inclusive = inclusive;
          }
        };
        if (key == "gt") {
          lower(x, false);
        } else if (key == "gte") {
          lower(x, true);
        } else if (key == "lt") {
          upper(x, false);
        } else if (key == "lte") {
          upper(x, true);
        } else if (key == "eq") {
          lower(x, true);
          upper(x, true);
        } else if (key == "neq") {
          vc.has_neq = true;
          vc.neq = x;
        } else {
          return error("unknown condition '" + key + "' (gt, gte, lt, lte, eq, neq, field)",
                       kv.first);
        }
        continue;
      }
      std::uint64_t n = 0;
      try {
        n = kv.second.as<std::uint64_t>();
      } catch (const YAML::Exception&) {
        return error("condition '" + key + "' needs a non-negative integer", kv.second);
      }
      any = true;
      auto& cc = r.condition;
      if (key == "gt") {
        cc.min = std::max(cc.min, n + 1);
      } else if (key == "gte") {
        cc.min = std::max(cc.min, n);
      } else if (key == "lt") {
        if (n == 0) return error("condition 'lt: 0' can never hold", kv.second);
        cc.max = std::min(cc.max, n - 1);
      } else if (key == "lte") {
        cc.max = std::min(cc.max, n);
      } else if (key == "eq") {
        cc.min = std::max(cc.min, n);
        cc.max = std::min(cc.max, n);
      } else if (key == "neq") {
        cc.has_neq = true;
        cc.neq = n;
      } else {
        return error("unknown condition '" + key + "' (gt, gte, lt, lte, eq, neq, field)",
                     kv.first);
      }
    }
    if (!any) {
      if (counts) return error("the condition has no criterion (gt, gte, lt, lte, eq, neq)", cond);
      r.condition.min = r.rules.size();
    }
    if (r.condition.min > r.condition.max)
      return error("the condition can never hold (" + r.condition.describe() + ")", cond);
    const auto& vc = r.value_condition;
    if (vc.min > vc.max || (vc.min == vc.max && !(vc.min_inclusive && vc.max_inclusive)))
      return error("the condition can never hold (" + vc.describe() + ")", cond);
  }
  const bool takes_field = r.type == CorrelationType::value_count || metric;
  if (takes_field && r.value_field.empty())
    return error(type + " needs 'condition.field'", cond ? cond : c);
  if (!takes_field && !r.value_field.empty())
    return error(
        "'condition.field' belongs to value_count, value_sum, value_avg and value_percentile",
        cond);
  if ((r.type == CorrelationType::temporal || r.type == CorrelationType::temporal_ordered) &&
      r.condition.min > r.rules.size())
    return error("the condition asks for more rules than 'rules' names", cond);
  if (const YAML::Node a = c["aliases"]) {
    if (!a.IsMap()) return error("'correlation.aliases' must be a map", a);
    for (const auto& alias : a) {
      if (!alias.second.IsMap())
        return error("alias '" + alias.first.as<std::string>() + "' must map rule names to fields",
                     alias.second);
      for (const auto& m : alias.second)
        out.aliases[alias.first.as<std::string>()][m.first.as<std::string>()] = scalar(m.second);
    }
  }
  return true;
}

/// The field a correlation reads from events of rule `ref` for its field `name`.
std::string aliased(const CorrDoc& d, const std::string& name, const std::string& ref_id,
                    const std::string& ref_name) {
  auto it = d.aliases.find(name);
  if (it == d.aliases.end()) return name;
  for (const auto& key : {ref_name, ref_id}) {
    if (key.empty()) continue;
    if (auto f = it->second.find(key); f != it->second.end()) return f->second;
  }
  return name;
}

}  // namespace

Result<std::shared_ptr<const CorrelationSet>> load_correlations(
    const SigmaOptions& options, const std::vector<std::pair<std::string, std::string>>& texts,
    const std::shared_ptr<const RuleSet>& base, LoadReport& report) {
  const std::string mapping_path =
      options.mapping_path.empty() ? default_mapping_path() : options.mapping_path;
  auto mapping = detail::load_mapping(mapping_path);
  if (!mapping) return mapping.error();
  auto impl = std::make_unique<CorrelationSet::Impl>();
  impl->base = base;
  impl->normalizer = mapping->normalizer;

  // The mapping's `extract` section: logsource entry name -> field -> RE2 patterns.
  std::map<std::string, std::map<std::string, std::vector<const re2::RE2*>>> extract;
  try {
    const YAML::Node root = YAML::LoadFile(mapping_path);
    if (const YAML::Node ex = root["extract"]) {
      for (const auto& ls : ex) {
        for (const auto& field : ls.second) {
          for (const auto& pattern : strings(field.second)) {
            auto re = std::make_unique<re2::RE2>(pattern);
            if (!re->ok() || re->NumberOfCapturingGroups() < 1)
              return Error{mapping_path + ": extract." + ls.first.as<std::string>() + "." +
                           field.first.as<std::string>() + ": '" + pattern +
                           "' is not an RE2 pattern with a capture group" +
                           (re->ok() ? "" : ": " + re->error())};
            extract[ls.first.as<std::string>()][field.first.as<std::string>()].push_back(re.get());
            impl->regexes.push_back(std::move(re));
          }
        }
      }
    }
  } catch (const YAML::Exception& e) {
    return Error{mapping_path + ": " + e.what()};
  }

  std::vector<std::pair<std::string, std::string>> sources;
  for (const auto& p : options.paths)
    collect(p, sources);
  sources.insert(sources.end(), texts.begin(), texts.end());

  std::vector<BaseDoc> base_docs;
  std::vector<CorrDoc> corrs;
  for (const auto& [path, text] : sources) {
    std::vector<YAML::Node> docs;
    try {
      docs = YAML::LoadAll(text);
    } catch (const YAML::Exception&) {
      continue;  // the Sigma loader reports invalid YAML
    }
    for (const auto& doc : docs) {
      if (!doc.IsMap() || doc["action"]) continue;
      try {
        if (doc["correlation"]) {
          CorrDoc d;
          if (parse_correlation(doc, path, d, report)) corrs.push_back(std::move(d));
        } else if (doc["detection"]) {
          BaseDoc b;
          b.id = scalar(doc["id"]);
          b.name = scalar(doc["name"]);
          b.title = scalar(doc["title"]);
          const YAML::Node ls = doc["logsource"];
          auto lower = [](std::string s) {
            std::transform(s.begin(), s.end(), s.begin(), ::tolower);
            return s;
          };
          if (ls && ls.IsMap()) {
            b.logsource.product = lower(scalar(ls["product"]));
            b.logsource.category = lower(scalar(ls["category"]));
            b.logsource.service = lower(scalar(ls["service"]));
          }
          base_docs.push_back(std::move(b));
        }
      } catch (const YAML::Exception& e) {
        report.errors.push_back({path, scalar(doc["id"]), scalar(doc["title"]),
                                 "invalid correlation", e.what(), line_of(doc)});
      }
    }
  }

  // Names and ids of the loaded base rules.
  std::map<std::string, std::uint32_t> base_by_id;
  if (base)
    for (std::uint32_t i = 0; i < base->rule_count(); ++i)
      if (!base->rule(i).id.empty()) base_by_id.emplace(base->rule(i).id, i);
  std::map<std::string, const BaseDoc*> doc_by_key;
  for (const auto& b : base_docs) {
    if (!b.id.empty()) doc_by_key.emplace(b.id, &b);
    if (!b.name.empty()) doc_by_key.emplace(b.name, &b);
  }

  // Correlations by id and name; duplicates are errors (spec: `name` is unique).
  std::map<std::string, std::size_t> corr_by_key;
  std::vector<bool> ok(corrs.size(), true);
  for (std::size_t i = 0; i < corrs.size(); ++i) {
    for (const auto& key : {corrs[i].rule.id, corrs[i].rule.name}) {
      if (key.empty()) continue;
      if (!corr_by_key.emplace(key, i).second) {
        report.errors.push_back(
            {corrs[i].rule.path, corrs[i].rule.id, corrs[i].rule.title, "invalid correlation",
             "id or name '" + key + "' is used by another correlation", corrs[i].line});
        ok[i] = false;
      }
    }
  }

  // Resolve references; compute levels (a chain's depth) and reject cycles.
  std::vector<int> level(corrs.size(), -1);
  std::vector<int> state(corrs.size(), 0);  // 0 new, 1 visiting, 2 done
  auto fail = [&](std::size_t i, const std::string& message) {
    if (ok[i])
      report.errors.push_back({corrs[i].rule.path, corrs[i].rule.id, corrs[i].rule.title,
                               "invalid correlation", message, corrs[i].line});
    ok[i] = false;
  };
  std::function<int(std::size_t)> depth = [&](std::size_t i) -> int {
    if (state[i] == 2) return level[i];
    if (state[i] == 1) {
      fail(i, "correlation chain refers back to itself");
      return 0;
    }
    state[i] = 1;
    int lv = 0;
    for (const auto& ref : corrs[i].rule.rules) {
      if (auto it = corr_by_key.find(ref); it != corr_by_key.end()) {
        if (it->second == i) {
          fail(i, "correlation refers to itself");
          continue;
        }
        lv = std::max(lv, depth(it->second) + 1);
        if (!ok[it->second]) fail(i, "refers to correlation '" + ref + "', which has errors");
      } else if (auto d = doc_by_key.find(ref); d != doc_by_key.end()) {
        const auto& bid = d->second->id;
        if (bid.empty() || base_by_id.find(bid) == base_by_id.end())
          fail(i, "refers to rule '" + ref + "', which is not loaded (see its own diagnostic)");
      } else if (base_by_id.find(ref) == base_by_id.end() && find_anomaly_rule(ref) == nullptr) {
        fail(i, "refers to '" + ref + "', which is no rule or correlation id or name");
      }
    }
    state[i] = 2;
    level[i] = lv;
    return lv;
  };
  for (std::size_t i = 0; i < corrs.size(); ++i)
    depth(i);

  // Keep the valid ones, in a stable order (by level, then as found).
  std::vector<std::size_t> keep;
  for (std::size_t i = 0; i < corrs.size(); ++i)
    if (ok[i]) keep.push_back(i);
  std::stable_sort(keep.begin(), keep.end(),
                   [&](std::size_t a, std::size_t b) { return level[a] < level[b]; });
  std::map<std::size_t, std::uint32_t> index_of;
  for (std::size_t k = 0; k < keep.size(); ++k)
    index_of[keep[k]] = static_cast<std::uint32_t>(k);
  for (auto i : keep) {
    CorrelationSpec spec;
    spec.rule = corrs[i].rule;
    spec.level = static_cast<std::uint32_t>(level[i]);
    impl->specs.push_back(std::move(spec));
  }
  const std::size_t n_base = base ? base->rule_count() : 0;
  impl->routes.resize(n_base);
  impl->base_generates.assign(n_base, true);
  impl->corr_generates.assign(impl->specs.size(), true);
  std::vector<bool> base_referenced(n_base, false), base_generate(n_base, false);
  std::vector<bool> corr_referenced(impl->specs.size(), false),
      corr_generate(impl->specs.size(), false);
  const std::size_t n_anomaly = std::size(anomaly_rules);
  impl->anomaly_routes.resize(n_anomaly);
  impl->anomaly_generates.assign(n_anomaly, true);
  std::vector<bool> anomaly_referenced(n_anomaly, false), anomaly_generate(n_anomaly, false);

  for (std::size_t k = 0; k < keep.size(); ++k) {
    const CorrDoc& d = corrs[keep[k]];
    const auto& rule = d.rule;
    for (std::size_t step = 0; step < rule.rules.size(); ++step) {
      const std::string& ref = rule.rules[step];
      if (auto it = corr_by_key.find(ref); it != corr_by_key.end()) {
        const std::uint32_t up = index_of.at(it->second);
        const auto& upstream = impl->specs[up].rule;
        CorrelationLink link;
        link.consumer = static_cast<std::uint32_t>(k);
        link.step = static_cast<std::uint16_t>(step);
        for (const auto& g : rule.group_by) {
          const std::string f = aliased(d, g, upstream.id, upstream.name);
          const auto pos = std::find(upstream.group_by.begin(), upstream.group_by.end(), f);
          link.key_fields.push_back(pos == upstream.group_by.end()
                                        ? -1
                                        : static_cast<int>(pos - upstream.group_by.begin()));
        }
        if (!rule.value_field.empty()) {
          const std::string f = aliased(d, rule.value_field, upstream.id, upstream.name);
          const auto pos = std::find(upstream.group_by.begin(), upstream.group_by.end(), f);
          if (pos != upstream.group_by.end())
            link.value_field = static_cast<int>(pos - upstream.group_by.begin());
        }
        impl->specs[up].consumers.push_back(std::move(link));
        corr_referenced[up] = true;
        if (rule.generate) corr_generate[up] = true;
        continue;
      }
      // The route of this step: its group-by fields and value field, each read through `source`.
      auto make_route = [&](auto&& source) {
        Route route;
        route.correlation = static_cast<std::uint32_t>(k);
        route.step = static_cast<std::uint16_t>(step);
        for (const auto& g : rule.group_by)
          route.key.push_back(source(g));
        if (!rule.value_field.empty()) {
          route.has_value = true;
          route.value = source(rule.value_field);
        }
        return route;
      };
      if (doc_by_key.find(ref) == doc_by_key.end() && base_by_id.find(ref) == base_by_id.end()) {
        // An anomaly detector (anomaly_stage.hpp): its alerts' group is the entity, named by
        // the `[anomaly] entity` fields, so group-by names (or their aliases for this rule)
        // are those field names as they are; no log-source mapping applies.
        const AnomalyRule* ar = find_anomaly_rule(ref);
        const auto ai = static_cast<std::size_t>(ar - anomaly_rules);
        auto source = [&](const std::string& field) {
          FieldSource f;
          f.sigma_name = aliased(d, field, std::string(ar->id), std::string(ar->name));
          f.names = {f.sigma_name};
          return f;
        };
        impl->anomaly_routes[ai].push_back(make_route(source));
        anomaly_referenced[ai] = true;
        if (rule.generate) anomaly_generate[ai] = true;
        continue;
      }
      std::string bid = ref, bname;
      if (auto dd = doc_by_key.find(ref); dd != doc_by_key.end()) {
        bid = dd->second->id;
        bname = dd->second->name;
      }
      const std::uint32_t bi = base_by_id.at(bid);
      const BaseDoc* bdoc = doc_by_key.count(bid) ? doc_by_key.at(bid) : nullptr;
      if (bname.empty() && bdoc) bname = bdoc->name;
      const detail::LogSourceMapping* ls = bdoc ? mapping->find(bdoc->logsource) : nullptr;
      auto source = [&](const std::string& sigma_field) {
        FieldSource f;
        f.sigma_name = aliased(d, sigma_field, bid, bname);
        f.names =
            ls ? mapping->map_field(*ls, f.sigma_name) : std::vector<std::string>{f.sigma_name};
        if (ls) {
          if (auto e = extract.find(ls->name); e != extract.end())
            if (auto x = e->second.find(f.sigma_name); x != e->second.end()) f.extract = x->second;
        }
        return f;
      };
      impl->routes[bi].push_back(make_route(source));
      base_referenced[bi] = true;
      if (rule.generate) base_generate[bi] = true;
    }
  }
  for (std::size_t i = 0; i < n_base; ++i)
    impl->base_generates[i] = !base_referenced[i] || base_generate[i];
  for (std::size_t i = 0; i < impl->specs.size(); ++i)
    impl->corr_generates[i] = !corr_referenced[i] || corr_generate[i];
  for (std::size_t i = 0; i < n_anomaly; ++i)
    impl->anomaly_generates[i] = !anomaly_referenced[i] || anomaly_generate[i];
  return std::shared_ptr<const CorrelationSet>(std::make_shared<CorrelationSet>(std::move(impl)));
}

}  // namespace sluice::rules
