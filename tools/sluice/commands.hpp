// SPDX-License-Identifier: Apache-2.0
/// The `sluice` subcommands. Each takes the arguments after its own name and returns the
/// process exit status (0 ok, 1 runtime failure, 2 usage or configuration error).
#pragma once

namespace sluice::cli {

int run_command(int argc, char** argv);    ///< sluice run --config FILE
int scan_command(int argc, char** argv);   ///< sluice scan [--input-format F] [--stats] INPUT...
int blast_command(int argc, char** argv);  ///< sluice blast: the load generator
int rules_command(int argc, char** argv);  ///< sluice rules check|test PATH...
int templates_command(int argc, char** argv);  ///< sluice templates FILE...
int anomaly_command(int argc, char** argv);    ///< sluice anomaly train|eval|score
int search_command(int argc, char** argv);     ///< sluice search --store DIR QUERY
int timeline_command(int argc, char** argv);   ///< sluice timeline --store DIR --host H --around T

}  // namespace sluice::cli
