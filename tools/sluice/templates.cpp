// SPDX-License-Identifier: Apache-2.0
/// `sluice templates [options] FILE...`: mines a template for every line and prints one JSON line
/// per input line: `line` (1-based within its file), `template_id`, `template`, and `file` when
/// more than one file is given. The template text is the one the line joined, as it stood after
/// the line. With `--table` the template table is loaded first (ids stay stable) and saved after.
#include <stdio.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "sluice/anomaly/template_miner.hpp"
#include "sluice/output/json_lines.hpp"

namespace sluice::cli {
namespace {

constexpr const char* templates_usage =
    "usage: sluice templates [options] FILE...\n"
    "\n"
    "Mines a Drain-style template for every line; prints one JSON line per input line with\n"
    "line, template_id and template (and file when several files are given). - reads stdin.\n"
    "\n"
    "options:\n"
    "  --table FILE        load the template table from FILE when it exists; save it after\n"
    "  --similarity X      share of equal tokens to join a template (default 0.6)\n"
    "  --depth N           prefix-tree depth (default 4)\n"
    "  --summary           print the final table (template_id, template, count) instead\n";

bool parse_double(const char* text, double& out) {
  char* end = nullptr;
  out = std::strtod(text, &end);
  return end && *end == '\0' && end != text;
}

}  // namespace

int templates_command(int argc, char** argv) {
  TemplateMinerConfig config;
  std::string table_path;
  bool summary = false;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto need_value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "sluice templates: %s needs a value\n", name);
        return nullptr;
      }
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::fputs(templates_usage, stdout);
      return 0;
    } else if (a == "--table") {
      const char* v = need_value("--table");
      if (!v) return 2;
      table_path = v;
    } else if (a == "--similarity") {
      const char* v = need_value("--similarity");
      if (!v || !parse_double(v, config.similarity) || config.similarity < 0 ||
          config.similarity > 1) {
        std::fprintf(stderr, "sluice templates: --similarity needs a number in [0, 1]\n");
        return 2;
      }
    } else if (a == "--depth") {
      const char* v = need_value("--depth");
      if (!v) return 2;
      const std::string_view s(v);
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), config.depth);
      if (ec != std::errc{} || p != s.data() + s.size() || config.depth < 3) {
        std::fprintf(stderr, "sluice templates: --depth needs an integer >= 3\n");
        return 2;
      }
    } else if (a == "--summary") {
      summary = true;
    } else if (a.size() > 1 && a[0] == '-') {
      std::fprintf(stderr, "sluice templates: unknown option '%s'\n\n%s", argv[i], templates_usage);
      return 2;
    } else {
      files.emplace_back(a);
    }
  }
  if (files.empty()) {
    std::fputs(templates_usage, stderr);
    return 2;
  }
  TemplateMiner miner(config);
  if (!table_path.empty() && std::filesystem::exists(table_path)) {
    auto r = miner.load(table_path);
    if (!r) {
      std::fprintf(stderr, "sluice templates: %s\n", r.error().message.c_str());
      return 1;
    }
  }
  MinerScratch scratch;
  std::string tmpl;
  std::string out;
  std::vector<std::uint64_t> counts;
  char* line = nullptr;
  std::size_t line_cap = 0;
  for (const auto& file : files) {
    std::FILE* f = file == "-" ? stdin : std::fopen(file.c_str(), "r");
    if (!f) {
      std::fprintf(stderr, "sluice templates: cannot open %s: %s\n", file.c_str(),
                   std::strerror(errno));
      std::free(line);
      return 1;
    }
    std::uint64_t line_no = 0;
    ssize_t n;
    while ((n = ::getline(&line, &line_cap, f)) >= 0) {
      ++line_no;
      std::string_view text(line, static_cast<std::size_t>(n));
      if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
      if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
      const MinedTemplate m = miner.mine(text, scratch, summary ? nullptr : &tmpl);
      if (summary) {
        if (m.id >= counts.size()) counts.resize(m.id + 1, 0);
        ++counts[m.id];
        continue;
      }
      out.append("{\"line\":");
      out.append(std::to_string(line_no));
      if (files.size() > 1) {
        out.append(",\"file\":");
        append_json_string(out, file);
      }
      out.append(",\"template_id\":");
      out.append(std::to_string(m.id));
      out.append(",\"template\":");
      append_json_string(out, tmpl);
      out.append("}\n");
      if (out.size() >= (1u << 16)) {
        std::fwrite(out.data(), 1, out.size(), stdout);
        out.clear();
      }
    }
    const bool failed = std::ferror(f);
    if (f != stdin) std::fclose(f);
    if (failed) {
      std::fprintf(stderr, "sluice templates: error reading %s\n", file.c_str());
      std::free(line);
      return 1;
    }
  }
  std::free(line);
  if (summary) {
    for (const auto& [id, text] : miner.templates()) {
      out.append("{\"template_id\":");
      out.append(std::to_string(id));
      out.append(",\"template\":");
      append_json_string(out, text);
      out.append(",\"count\":");
      out.append(std::to_string(id < counts.size() ? counts[id] : 0));
      out.append("}\n");
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (std::fflush(stdout) != 0) return 1;
  if (!table_path.empty()) {
    auto r = miner.save(table_path);
    if (!r) {
      std::fprintf(stderr, "sluice templates: %s\n", r.error().message.c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace sluice::cli
