// SPDX-License-Identifier: Apache-2.0
/// The log source and field mapping (`rules/mappings/default.yml` and user files). It says, for
/// each Sigma log source (product/category/service), which events belong to it (a predicate in
/// Sigma detection syntax) and how Sigma field names become event field names; and, for all
/// events, how raw event field names are normalised (prefixes stripped, aliases). Compile-side.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "program.hpp"
#include "sigma_document.hpp"
#include "sluice/common/result.hpp"

namespace sluice::rules::detail {

struct LogSourceMapping {
  std::string name;
  std::string product;  ///< empty: the rule must not name one; "*": any
  std::string category;
  std::string service;
  /// OR of alternatives (AND of items), over mapped field names; empty = every event.
  SearchIdentifier predicate;
  std::map<std::string, std::vector<std::string>> fields;
};

struct Mapping {
  std::string path;
  FieldNormalizer normalizer;
  std::map<std::string, std::vector<std::string>> fields;  ///< for every log source
  std::vector<LogSourceMapping> logsources;
  /// Values of `%name%` placeholders for the `|expand` modifier.
  std::map<std::string, std::vector<std::string>> placeholders;

  /// The entry for a rule's log source, or nullptr ("unknown logsource").
  const LogSourceMapping* find(const LogSource& ls) const;
  /// Event field names a Sigma field maps to under `ls` (never empty).
  std::vector<std::string> map_field(const LogSourceMapping& ls, const std::string& field) const;
};

/// Reads a mapping file. Errors name the file and the key.
Result<Mapping> load_mapping(const std::string& path);

}  // namespace sluice::rules::detail
