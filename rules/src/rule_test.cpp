// SPDX-License-Identifier: Apache-2.0
/// Rule tests (`*.test.yml`) and the JSON flattening they use. The JSON reader here is small on
/// purpose: it serves tests and `sluice rules test`, not the data path (core's JSON parser does).
/// yaml-cpp and std::filesystem exceptions are caught in `run_rule_tests`.
#include "sluice/rules/rule_test.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "correlation_test.hpp"
#include "load.hpp"
#include "sluice/parse/parser.hpp"

namespace sluice::rules {
namespace {

namespace fs = std::filesystem;

class JsonFlattener {
 public:
  JsonFlattener(std::string_view text, Arena& arena) : s_(text), arena_(arena) {}

  bool object(std::vector<Field>& out) {
    out_ = &out;
    std::string prefix;
    return value(prefix);
  }
  std::size_t pos() const { return i_; }
  void set_pos(std::size_t p) { i_ = p; }
  void skip_ws() {
    while (i_ < s_.size() &&
           (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t' || s_[i_] == ','))
      ++i_;
  }
  bool at_end() {
    skip_ws();
    return i_ >= s_.size();
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  std::string error;

 private:
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t'))
      ++i_;
  }
  bool string(std::string& out) {
    if (peek() != '"') return fail("expected a string");
    ++i_;
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_++];
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) return fail("unterminated escape");
      c = s_[i_++];
      switch (c) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'u': {
          if (i_ + 4 > s_.size()) return fail("bad \\u escape");
          unsigned cp = 0;
          if (!hex4(s_.substr(i_, 4), cp)) return fail("bad \\u escape");
          i_ += 4;
          if (cp >= 0xd800 && cp < 0xdc00 && i_ + 6 <= s_.size() && s_[i_] == '\\' &&
              s_[i_ + 1] == 'u') {
            unsigned lo = 0;
            if (!hex4(s_.substr(i_ + 2, 4), lo) || lo < 0xdc00 || lo > 0xdfff)
              return fail("bad \\u surrogate pair");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            i_ += 6;
          }
          if (cp < 0x80) {
            out += static_cast<char>(cp);
          } else if (cp < 0x800) {
            out += static_cast<char>(0xc0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3f));
          } else if (cp < 0x10000) {
            out += static_cast<char>(0xe0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
          } else {
            out += static_cast<char>(0xf0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
          }
          break;
        }
        default:
          out += c;
      }
    }
    if (i_ >= s_.size()) return fail("unterminated string");
    ++i_;
    return true;
  }
  static bool hex4(std::string_view h, unsigned& out) {
    if (h.size() != 4) return false;
    out = 0;
    for (char c : h) {
      out <<= 4;
      if (c >= '0' && c <= '9')
        out |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f')
        out |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        out |= static_cast<unsigned>(c - 'A' + 10);
      else
        return false;
    }
    return true;
  }
  bool fail(const char* what) {
    if (error.empty()) error = std::string(what) + " at offset " + std::to_string(i_);
    return false;
  }
  void emit(const std::string& name, std::string_view v) {
    out_->push_back(Field{arena_.copy(name), arena_.copy(v)});
  }
  bool value(const std::string& name) {
    ws();
    const char c = peek();
    if (c == '{') {
      ++i_;
      ws();
      if (peek() == '}') {
        ++i_;
        return true;
      }
      while (true) {
        ws();
        std::string key;
        if (!string(key)) return false;
        ws();
        if (peek() != ':') return fail("expected ':'");
        ++i_;
        if (!value(name.empty() ? key : name + "." + key)) return false;
        ws();
        if (peek() == ',') {
          ++i_;
          continue;
        }
        if (peek() == '}') {
          ++i_;
          return true;
        }
        return fail("expected ',' or '}'");
      }
    }
    if (c == '[') {
      ++i_;
      ws();
      if (peek() == ']') {
        ++i_;
        return true;
      }
      std::size_t index = 0;
      while (true) {
        // Elements are `name.0`, `name.1`, ... as core's JSON parser names them.
        if (!value(name + "." + std::to_string(index++))) return false;
        ws();
        if (peek() == ',') {
          ++i_;
          continue;
        }
        if (peek() == ']') {
          ++i_;
          return true;
        }
        return fail("expected ',' or ']'");
      }
    }
    if (c == '"') {
      std::string v;
      if (!string(v)) return false;
      emit(name, v);
      return true;
    }
    const std::size_t start = i_;
    while (i_ < s_.size() && s_[i_] != ',' && s_[i_] != '}' && s_[i_] != ']' && s_[i_] != ' ' &&
           s_[i_] != '\n' && s_[i_] != '\r' && s_[i_] != '\t')
      ++i_;
    const std::string_view lit = s_.substr(start, i_ - start);
    if (lit.empty()) return fail("expected a value");
    if (lit != "null") emit(name, lit);
    return true;
  }

  std::string_view s_;
  Arena& arena_;
  std::size_t i_ = 0;
  std::vector<Field>* out_ = nullptr;
};

void finish_event(EventBatch& batch, std::string_view raw, const std::vector<Field>& fields) {
  Event& e = batch.add_record(raw, 0);
  e.format = InputFormat::json;
  e.status = ParseStatus::parsed;
  auto span = batch.arena().allocate_array<Field>(fields.size());
  std::copy(fields.begin(), fields.end(), span.begin());
  e.fields = span;
}

void parse_input_format(const std::string& name, InputFormat& out) {
  for (auto f : {InputFormat::unknown, InputFormat::rfc3164, InputFormat::rfc5424,
                 InputFormat::json, InputFormat::cef, InputFormat::raw})
    if (to_string(f) == name) out = f;
}

std::string scalar(const YAML::Node& n) {
  return n && n.IsScalar() ? n.Scalar() : std::string{};
}

void flatten_yaml(const YAML::Node& n, const std::string& name,
                  std::vector<std::pair<std::string, std::string>>& out) {
  if (n.IsMap()) {
    for (const auto& kv : n)
      flatten_yaml(
          kv.second,
          name.empty() ? kv.first.as<std::string>() : name + "." + kv.first.as<std::string>(), out);
  } else if (n.IsSequence()) {
    for (const auto& x : n)
      flatten_yaml(x, name, out);
  } else if (n.IsScalar()) {
    out.emplace_back(name, n.Scalar());
  }
}

/// Runs one test file; appends failures.
void run_file(const fs::path& file, const std::string& mapping_path, RuleTestResult& result) {
  const std::string where = file.string();
  YAML::Node root;
  try {
    root = YAML::LoadFile(where);
  } catch (const YAML::Exception& e) {
    result.failures.push_back(where + ": invalid yaml: " + e.what());
    return;
  }
  try {
    SigmaOptions options;
    options.mapping_path = mapping_path;
    if (const YAML::Node m = root["mapping"]) {
      fs::path mp = m.as<std::string>();
      if (mp.is_relative()) mp = file.parent_path() / mp;
      options.mapping_path = mp.lexically_normal().string();
    }
    for (const auto& r : root["rules"] ? root["rules"] : YAML::Node(YAML::NodeType::Sequence)) {
      fs::path p = r.as<std::string>();
      if (p.is_relative()) p = file.parent_path() / p;
      options.paths.push_back(p.lexically_normal().string());
    }
    std::vector<std::pair<std::string, std::string>> texts;
    if (const YAML::Node inl = root["inline_rules"]) {
      std::size_t n = 0;
      for (const auto& doc : inl) {
        YAML::Emitter em;
        em << doc;
        texts.emplace_back(where + "#inline_rules[" + std::to_string(n++) + "]", em.c_str());
      }
    }
    LoadReport report;
    auto set = detail::load_sources(options, texts, report);
    for (auto& d : report.skipped)
      result.diagnostics.push_back(d);
    for (auto& d : report.errors)
      result.diagnostics.push_back(d);
    if (!set) {
      result.failures.push_back(where + ": " + set.error().message);
      return;
    }
    const auto& rules = *set.value();
    EventBatch batch;
    Parser parser;
    std::vector<std::vector<std::string>> expected;
    std::vector<std::string> labels;
    std::size_t index = 0;
    for (const auto& ev : root["events"]) {
      const std::string label = ev["name"] ? scalar(ev["name"]) : "event " + std::to_string(index);
      ++index;
      std::vector<std::string> expect;
      if (const YAML::Node x = ev["expect"]) {
        if (x.IsSequence()) {
          for (const auto& e : x)
            expect.push_back(e.as<std::string>());
        } else if (x.IsScalar()) {
          expect.push_back(x.Scalar());
        }
      }
      if (ev["line"]) {
        // A raw log line, parsed by core's parser exactly as `sluice scan` would.
        Event& e = batch.add_record(scalar(ev["line"]), 0);
        parser.parse(e, batch.arena());
      } else if (ev["json"]) {
        const std::size_t before = batch.size();
        auto added = add_json_events(scalar(ev["json"]), batch);
        if (!added || batch.size() != before + 1) {
          result.failures.push_back(where + ": " + label +
                                    ": 'json' must hold exactly one valid object");
          continue;
        }
      } else {
        const std::string message = scalar(ev["message"]);
        const std::string raw = ev["raw"] ? scalar(ev["raw"]) : message;
        Event& e = batch.add_record(raw, 0);
        Arena& arena = batch.arena();
        e.status = ParseStatus::parsed;
        e.format = InputFormat::rfc3164;
        if (ev["format"]) parse_input_format(scalar(ev["format"]), e.format);
        e.message = arena.copy(message);
        e.host = arena.copy(scalar(ev["host"]));
        e.app = arena.copy(scalar(ev["app"]));
        e.procid = arena.copy(scalar(ev["procid"]));
        e.msgid = arena.copy(scalar(ev["msgid"]));
        if (ev["facility"]) e.facility = static_cast<std::uint8_t>(ev["facility"].as<int>());
        if (ev["severity"]) e.severity = static_cast<std::uint8_t>(ev["severity"].as<int>());
        std::vector<std::pair<std::string, std::string>> flat;
        if (ev["fields"]) flatten_yaml(ev["fields"], "", flat);
        auto span = arena.allocate_array<Field>(flat.size());
        for (std::size_t i = 0; i < flat.size(); ++i)
          span[i] = Field{arena.copy(flat[i].first), arena.copy(flat[i].second)};
        e.fields = span;
      }
      expected.push_back(std::move(expect));
      labels.push_back(label);
    }
    auto scanner = rules.make_scanner();
    std::vector<Detection> detections;
    scanner->scan(batch, detections);
    std::vector<std::set<std::string>> got(batch.size());
    for (const auto& d : detections) {
      const RuleInfo& info = rules.rule(d.rule_index);
      got[d.event_index].insert(info.id.empty() ? info.title : info.id);
    }
    for (std::size_t i = 0; i < expected.size(); ++i) {
      ++result.events;
      std::set<std::string> want;
      for (const auto& e : expected[i]) {
        // An expectation names a rule by id or title.
        std::string key = e;
        for (std::uint32_t r = 0; r < rules.rule_count(); ++r)
          if (rules.rule(r).title == e && !rules.rule(r).id.empty()) key = rules.rule(r).id;
        want.insert(key);
      }
      if (want == got[i]) {
        ++result.passed;
        continue;
      }
      std::string line = where + ": " + labels[i] + ": expected [";
      for (const auto& w : want)
        line += " " + w;
      line += " ] got [";
      for (const auto& g : got[i])
        line += " " + g;
      line += " ]";
      result.failures.push_back(line);
    }
    // Correlation expectations (rules/README.md, "Correlation tests").
    if (root["alerts"])
      detail::check_correlation_alerts(root, where, options, texts, set.value(), batch, detections,
                                       result);
  } catch (const YAML::Exception& e) {
    result.failures.push_back(where + ": " + e.what());
  }
}

}  // namespace

Result<std::size_t> add_json_events(std::string_view text, EventBatch& batch) {
  std::size_t added = 0;
  std::size_t i = 0;
  std::vector<Field> fields;
  // A top-level array is a list of events; strip its brackets and read the objects inside.
  JsonFlattener probe(text, batch.arena());
  probe.skip_ws();
  std::string_view body = text;
  if (probe.peek() == '[') {
    auto close = body.rfind(']');
    if (close == std::string_view::npos || close < probe.pos())
      return Error{"unterminated JSON array"};
    body = body.substr(probe.pos() + 1, close - probe.pos() - 1);
  }
  JsonFlattener reader(body, batch.arena());
  while (!reader.at_end()) {
    if (reader.peek() != '{')
      return Error{"expected a JSON object at offset " + std::to_string(reader.pos())};
    const std::size_t start = reader.pos();
    fields.clear();
    if (!reader.object(fields)) return Error{"invalid JSON: " + reader.error};
    finish_event(batch, body.substr(start, reader.pos() - start), fields);
    ++added;
    (void)i;
  }
  return added;
}

Result<RuleTestResult> run_rule_tests(const std::string& path, const std::string& mapping_path) {
  RuleTestResult result;
  std::vector<fs::path> files;
  try {
    if (fs::is_directory(path)) {
      for (const auto& e : fs::recursive_directory_iterator(path)) {
        const std::string name = e.path().filename().string();
        if (e.is_regular_file() && name.size() > 9 &&
            name.compare(name.size() - 9, 9, ".test.yml") == 0)
          files.push_back(e.path());
      }
      std::sort(files.begin(), files.end());
    } else if (fs::exists(path)) {
      files.emplace_back(path);
    } else {
      return Error{"no such file or folder: " + path};
    }
  } catch (const fs::filesystem_error& e) {
    return Error{e.what()};
  }
  for (const auto& f : files) {
    ++result.files;
    run_file(f, mapping_path, result);
  }
  return result;
}

}  // namespace sluice::rules
