// SPDX-License-Identifier: Apache-2.0
/// `sluice timeline --store DIR --host H --around T`: what one entity (a host, or any field value)
/// did around a moment, in time order, as text for people. It is a search for `FIELD:"VALUE"` in
/// [T - before, T + after), with the alerts stored for those events printed after each one.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "commands.hpp"
#include "search_output.hpp"

namespace sluice::cli {
namespace {

constexpr const char* timeline_usage =
    "usage: sluice timeline --store DIR (--host H | --field F=V) --around T [options]\n"
    "\n"
    "Events of one host (or of any field value) around a time, oldest first, each followed by\n"
    "the alerts stored for it.\n"
    "\n"
    "options:\n"
    "  --store DIR     the event store folder (required)\n"
    "  --host H        the host (host.name) to follow\n"
    "  --field F=V     any field instead, e.g. --field user=root or --field source.ip=10.0.0.5\n"
    "  --around T      the moment: RFC 3339, -15m/-2h/-1d, now, @EPOCH_SECONDS (required)\n"
    "  --before D      how far back from T (default 15m; s, m, h, d, w)\n"
    "  --after D       how far on from T (default 15m)\n"
    "  --limit N       print at most N events\n"
    "  --format F      text (default) or json\n"
    "  --progress      progress on stderr\n";

/// `F:"V"` with the phrase escapes of query.hpp.
std::string field_term(std::string_view field, std::string_view value) {
  std::string q(field);
  q += ":\"";
  for (char c : value) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  q += '"';
  return q;
}

}  // namespace

int timeline_command(int argc, char** argv) {
  SearchRun run;
  run.command = "timeline";
  run.format = SearchFormat::text;
  run.progress = false;
  run.inline_alerts = true;
  const std::int64_t now = now_ns();
  std::string field, value;
  std::optional<std::int64_t> around;
  std::int64_t before = 15LL * 60 * 1'000'000'000, after = before;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto need = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "sluice timeline: %s needs a value\n", argv[i]);
        return nullptr;
      }
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::fputs(timeline_usage, stdout);
      return 0;
    }
    if (a == "--progress") {
      run.progress = true;
      continue;
    }
    const char* v = nullptr;
    if (a == "--store" || a == "--host" || a == "--field" || a == "--around" || a == "--before" ||
        a == "--after" || a == "--limit" || a == "--format") {
      v = need();
      if (v == nullptr) return 2;
    } else {
      std::fprintf(stderr, "sluice timeline: unknown argument '%s'\n%s", argv[i], timeline_usage);
      return 2;
    }
    if (a == "--store") {
      run.store = v;
    } else if (a == "--host") {
      field = "host";
      value = v;
    } else if (a == "--field") {
      const char* eq = std::strchr(v, '=');
      if (eq == nullptr || eq == v) {
        std::fprintf(stderr, "sluice timeline: --field takes FIELD=VALUE\n");
        return 2;
      }
      field.assign(v, eq);
      value = eq + 1;
    } else if (a == "--around") {
      around = search::parse_time_ns(v, now);
      if (!around) {
        std::fprintf(stderr, "sluice timeline: --around: '%s' is not a time\n", v);
        return 2;
      }
    } else if (a == "--before" || a == "--after") {
      auto d = search::parse_duration_ns(v);
      if (!d) {
        std::fprintf(stderr, "sluice timeline: %s: '%s' is not a duration (e.g. 30m)\n",
                     argv[i - 1], v);
        return 2;
      }
      (a == "--before" ? before : after) = *d;
    } else if (a == "--limit") {
      char* end = nullptr;
      const unsigned long long n = std::strtoull(v, &end, 10);
      if (*v == '\0' || *end != '\0' || n == 0) {
        std::fprintf(stderr, "sluice timeline: --limit needs a positive number\n");
        return 2;
      }
      run.options.limit = n;
    } else if (a == "--format") {
      if (std::strcmp(v, "json") == 0) {
        run.format = SearchFormat::json;
      } else if (std::strcmp(v, "text") == 0) {
        run.format = SearchFormat::text;
      } else {
        std::fprintf(stderr, "sluice timeline: --format is text or json\n");
        return 2;
      }
    }
  }
  if (run.store.empty() || field.empty() || !around) {
    std::fprintf(stderr,
                 "sluice timeline: --store, --host (or --field) and --around are required\n%s",
                 timeline_usage);
    return 2;
  }
  run.query = field_term(field, value);
  run.options.from_ns = *around - before;
  run.options.to_ns = *around + after;
  return execute_search(run);
}

}  // namespace sluice::cli
