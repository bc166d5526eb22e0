// SPDX-License-Identifier: Apache-2.0
/// `sluice`: one binary, one subcommand per job (see DESIGN.md, "Command line").
#include <cstdio>
#include <cstring>
#include <string_view>

#include "commands.hpp"

namespace {

constexpr const char* usage_text =
    "usage: sluice <command> [options]\n"
    "\n"
    "commands:\n"
    "  run --config FILE          the appliance: listeners, rules, outputs, /metrics\n"
    "  scan [options] INPUT...    offline: log files, pcaps or - (stdin) in, JSON lines out\n"
    "  search --store DIR QUERY   search the event store (| count, | top N F, ...)\n"
    "  timeline --store DIR ...   one host's (or field value's) events around a time\n"
    "  rules check|test PATH...   validate Sigma rules / run rule tests\n"
    "  blast [options]            load generator: send syslog over UDP or TCP\n"
    "  templates FILE...          mine a log template for every line (JSON lines)\n"
    "  anomaly train|eval|score   train, evaluate and apply the anomaly model\n"
    "  version                    print the version\n"
    "\n"
    "Run 'sluice <command> --help' for the options of a command.\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(usage_text, stderr);
    return 2;
  }
  const std::string_view command = argv[1];
  if (command == "version" || command == "--version") {
    std::printf("sluice %s\n", SLUICE_VERSION);
    return 0;
  }
  if (command == "help" || command == "--help" || command == "-h") {
    std::fputs(usage_text, stdout);
    return 0;
  }
  if (command == "run") return sluice::cli::run_command(argc - 1, argv + 1);
  if (command == "scan") return sluice::cli::scan_command(argc - 1, argv + 1);
  if (command == "search") return sluice::cli::search_command(argc - 1, argv + 1);
  if (command == "timeline") return sluice::cli::timeline_command(argc - 1, argv + 1);
  if (command == "rules") return sluice::cli::rules_command(argc - 1, argv + 1);
  if (command == "blast") return sluice::cli::blast_command(argc - 1, argv + 1);
  if (command == "templates") return sluice::cli::templates_command(argc - 1, argv + 1);
  if (command == "anomaly") return sluice::cli::anomaly_command(argc - 1, argv + 1);
  std::fprintf(stderr, "sluice: unknown command '%s'\n\n%s", argv[1], usage_text);
  return 2;
}
