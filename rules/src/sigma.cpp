// SPDX-License-Identifier: Apache-2.0
/// `load_sigma`: finds rule files, parses every document, applies selection (level, status) and
/// global filters, lowers the rules and compiles the set. `std::filesystem` throws; its calls are
/// wrapped here and become diagnostics.
#include "sluice/rules/sigma.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "load.hpp"
#include "lower.hpp"
#include "mapping.hpp"
#include "sigma_document.hpp"
#include "sigma_rule_set.hpp"

namespace sluice::rules {
namespace {

namespace fs = std::filesystem;
using namespace detail;

std::string rules_dir() {
  if (const char* env = std::getenv("SLUICE_RULES_DIR"); env && *env) return env;
  return SLUICE_RULES_SOURCE_DIR;
}

int level_rank(const std::string& level) {
  static const char* levels[] = {"informational", "low", "medium", "high", "critical"};
  for (int i = 0; i < 5; ++i)
    if (level == levels[i]) return i;
  return -1;
}

bool is_rule_file(const fs::path& p) {
  const std::string name = p.filename().string();
  auto ends = [&](const std::string& s) {
    return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  if (ends(".test.yml") || ends(".test.yaml")) return false;
  return ends(".yml") || ends(".yaml");
}

struct Source {
  std::string path;
  std::string text;
};

void collect_files(const std::string& path, std::vector<Source>& out, LoadReport& report) {
  std::error_code ec;
  std::vector<fs::path> files;
  if (fs::is_directory(path, ec)) {
    try {
      for (const auto& entry :
           fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied)) {
        if (entry.is_regular_file() && is_rule_file(entry.path())) files.push_back(entry.path());
      }
    } catch (const fs::filesystem_error& e) {
      report.errors.push_back({path, "", "", "unreadable", e.what()});
    }
    std::sort(files.begin(), files.end());
  } else if (fs::exists(path, ec)) {
    files.emplace_back(path);
  } else {
    report.errors.push_back({path, "", "", "unreadable", "no such file or folder: " + path});
    return;
  }
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      report.errors.push_back({f.string(), "", "", "unreadable", "cannot open " + f.string()});
      continue;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    out.push_back({f.string(), ss.str()});
  }
}

bool is_error_reason(const std::string& reason) {
  return reason == "invalid value" || reason == "invalid condition" || reason == "invalid yaml" ||
         reason == "invalid detection";
}

Result<std::shared_ptr<const RuleSet>> build(const std::vector<Source>& sources,
                                             const SigmaOptions& options, LoadReport& report,
                                             std::chrono::steady_clock::time_point start) {
  auto mapping =
      load_mapping(options.mapping_path.empty() ? default_mapping_path() : options.mapping_path);
  if (!mapping) return mapping.error();

  // YAML parsing is most of the load time and each file is independent: parse on every core,
  // then merge in file order so the result does not depend on scheduling. parse_documents
  // turns every yaml-cpp exception into an error document, so nothing throws across threads.
  std::vector<std::vector<ParsedDocument>> parsed(sources.size());
  {
    std::atomic<std::size_t> next{0};
    auto work = [&] {
      for (std::size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < sources.size();)
        parsed[i] = parse_documents(sources[i].text, sources[i].path);
    };
    const unsigned helpers = std::min(std::max(1u, std::thread::hardware_concurrency()), 8u) - 1;
    std::vector<std::jthread> pool;
    for (unsigned t = 0; t < helpers && t + 1 < sources.size(); ++t)
      pool.emplace_back(work);
    work();
  }

  std::vector<SigmaRule> rules;
  std::vector<SigmaFilter> filters;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    const auto& src = sources[i];
    for (auto& doc : parsed[i]) {
      switch (doc.kind) {
        case ParsedDocument::Kind::rule:
          rules.push_back(std::move(doc.rule));
          break;
        case ParsedDocument::Kind::filter:
          filters.push_back(std::move(doc.filter));
          break;
        case ParsedDocument::Kind::skipped:
          report.skipped.push_back(
              {src.path, doc.id, doc.title, doc.reason, doc.message, doc.line});
          break;
        case ParsedDocument::Kind::error:
          report.errors.push_back({src.path, doc.id, doc.title, doc.reason, doc.message, doc.line});
          break;
        case ParsedDocument::Kind::empty:
          break;
      }
      for (const auto& m : doc.more)
        (m.skip ? report.skipped : report.errors)
            .push_back({src.path, doc.id, doc.title, m.reason, m.message, m.line});
    }
  }

  report.parse_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::map<std::string, std::vector<const SigmaFilter*>> filters_by_rule;
  for (const auto& f : filters)
    for (const auto& r : f.rules)
      filters_by_rule[r].push_back(&f);

  const int min_rank = options.min_level.empty() ? -1 : level_rank(options.min_level);
  if (!options.min_level.empty() && min_rank < 0)
    return Error{"unknown minimum level '" + options.min_level +
                 "' (informational, low, medium, high, critical)"};

  auto program = std::make_unique<Program>();
  program->normalizer = mapping->normalizer;
  Lowerer lowerer(*program, *mapping);
  lowerer.set_regex_engine(options.regex_engine);
  for (const auto& rule : rules) {
    if (min_rank >= 0 && level_rank(rule.level) < min_rank) {
      report.skipped.push_back({rule.path, rule.id, rule.title, "below minimum level",
                                "level '" + rule.level + "' is below '" + options.min_level + "'",
                                rule.line});
      continue;
    }
    if (!options.statuses.empty() && std::find(options.statuses.begin(), options.statuses.end(),
                                               rule.status) == options.statuses.end()) {
      report.skipped.push_back({rule.path, rule.id, rule.title, "status not selected",
                                "status '" + rule.status + "' is not selected", rule.line});
      continue;
    }
    std::vector<const SigmaFilter*> applied;
    for (const auto& key : {rule.id, rule.name}) {
      if (key.empty()) continue;
      if (auto it = filters_by_rule.find(key); it != filters_by_rule.end())
        applied.insert(applied.end(), it->second.begin(), it->second.end());
    }
    std::string reason, message;
    if (!lowerer.add_rule(rule, applied, reason, message)) {
      RuleDiagnostic d{rule.path, rule.id, rule.title, reason, message, rule.line};
      (is_error_reason(reason) ? report.errors : report.skipped).push_back(std::move(d));
    }
  }
  report.regex_fallbacks = lowerer.regex_fallbacks();
  report.regexes_hyperscan = lowerer.regex_engine_count(0);
  report.regexes_prefiltered = lowerer.regex_engine_count(1);
  report.regexes_re2_only = lowerer.regex_engine_count(2);
  if (auto r = finalize_program(*program); !r) return r.error();
  report.loaded = program->rules.size();
  report.always_evaluated = program->always_rules.size();
  for (const auto& atom : program->atoms) {
    ++report.atoms;
    if (atom.eager) ++report.eager_atoms;
  }
  report.compile_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::shared_ptr<const RuleSet> set = std::make_shared<SigmaRuleSet>(std::move(program));
  return set;
}

}  // namespace

std::string default_mapping_path() {
  return rules_dir() + "/mappings/default.yml";
}

std::string default_packs_path() {
  return rules_dir() + "/packs";
}

Result<std::shared_ptr<const RuleSet>> load_sigma(const SigmaOptions& options, LoadReport& report) {
  return detail::load_sources(options, {}, report);
}

Result<std::shared_ptr<const RuleSet>> detail::load_sources(
    const SigmaOptions& options, const std::vector<std::pair<std::string, std::string>>& texts,
    LoadReport& report) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<Source> sources;
  for (const auto& p : options.paths)
    collect_files(p, sources, report);
  for (const auto& [origin, text] : texts)
    sources.push_back({origin, text});
  return build(sources, options, report, start);
}

Result<std::shared_ptr<const RuleSet>> load_sigma_text(std::string_view yaml,
                                                       std::string_view origin,
                                                       const SigmaOptions& options,
                                                       LoadReport& report) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<Source> sources{{std::string(origin), std::string(yaml)}};
  return build(sources, options, report, start);
}

}  // namespace sluice::rules
