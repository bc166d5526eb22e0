// SPDX-License-Identifier: Apache-2.0
/// `TemplateMiner`: an online, Drain-style log template miner (He et al., "Drain: An Online Log
/// Parsing Approach with Fixed Depth Tree", ICWS 2017). Every message gets a template id and a
/// template text in which variable parts read `<*>`.
///
/// A message is split on whitespace and masked first (see `mask_message`): any token part that
/// holds a digit (numbers, IPv4/IPv6 addresses with ports, hex ids, UUIDs, HDFS block ids, times,
/// node names) or that is a path or URL becomes `<*>`. The masked tokens then walk a fixed-depth
/// prefix tree: token count, then the first `depth - 2` tokens; the leaf holds the templates of
/// that shape and the message joins the most similar one when the share of equal tokens reaches
/// `similarity`, turning the differing positions into `<*>`; otherwise it starts a new template.
///
/// A message whose masked shape (the token sequence after masking) this thread has already mined
/// goes straight to the template that shape joined, from a per-thread cache, without the tree:
/// templates only ever widen, so that template still matches it without change. This keeps a
/// shape on its template for good, and is what makes the steady state cheap.
///
/// Thread safety: `mine` may be called from any number of threads at once, each with its own
/// `MinerScratch`. The table is sharded by token count; a message that matches an existing
/// template exactly (the steady state) takes only its shard's shared lock; creating a template or
/// widening one takes that shard's exclusive lock. Template ids are never reused and never change;
/// a template's text may widen (more `<*>`) as messages arrive, which is Drain's nature.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sluice/common/result.hpp"

namespace sluice {

/// Settings of the miner; `[templates]` in the configuration.
struct TemplateMinerConfig {
  /// Share of a template's positions a message must match to join it (Drain's `st`). 0.6 is the
  /// best single value over the twelve Loghub sets (bench/RESULTS.md, "Template mining").
  double similarity = 0.6;
  /// Tree depth as in Drain: the root, the token-count level, then `depth - 2` leading tokens.
  std::size_t depth = 4;
  /// Children per tree node before further leading tokens share one `<*>` child (Drain's
  /// `maxChild`); bounds the tree when the leading token is itself a variable.
  std::size_t max_children = 100;
  /// Tokens kept per message; the rest of a longer message becomes one trailing `<*>` token, so
  /// a pathological line costs bounded time and memory.
  std::size_t max_tokens = 256;
};

/// The wildcard as it appears in template text.
inline constexpr std::string_view template_wildcard = "<*>";

/// Per-thread working memory of `TemplateMiner::mine`; reuse one per worker so mining does not
/// allocate in the steady state. Not thread-safe.
struct MinerScratch {
  std::string text;                    ///< masked tokens, back to back
  std::vector<std::uint32_t> offsets;  ///< token i is text[offsets[i], offsets[i + 1])
  std::vector<std::uint64_t> hashes;   ///< per token; wildcard tokens hash to `wildcard_hash`
  std::uint64_t shape = 0;             ///< hash of the whole masked token sequence
  std::string_view token(std::size_t i) const {
    return std::string_view(text).substr(offsets[i], offsets[i + 1] - offsets[i]);
  }
  std::size_t size() const { return hashes.size(); }

  /// Masked shapes this thread has mined before and the template each joined without widening
  /// it (see `TemplateMiner::mine`). Valid for one miner only (`cache_owner` holds its serial
  /// number, never reused in a process); bounded by `max_cached_shapes`.
  std::uint64_t cache_owner = 0;
  std::unordered_map<std::uint64_t, std::pair<std::uint32_t, void*>> shapes;
};

/// Shapes a `MinerScratch` remembers before it starts over: a worker sees far fewer distinct
/// masked shapes than this (718 templates cover all twelve Loghub samples).
inline constexpr std::size_t max_cached_shapes = 1 << 16;

/// Masks and tokenises `message` into `scratch` (see the file comment for the rules). Exposed
/// for tests and the feature code; `mine` calls it.
void mask_message(std::string_view message, std::size_t max_tokens, MinerScratch& scratch);

/// The outcome of mining one message.
struct MinedTemplate {
  std::uint32_t id = 0;  ///< 1-based template id; never 0 for a mined message
  bool created = false;  ///< this message started the template
  bool widened = false;  ///< this message turned template positions into `<*>`
};

class TemplateMiner {
 public:
  explicit TemplateMiner(TemplateMinerConfig config = {});
  ~TemplateMiner();
  TemplateMiner(const TemplateMiner&) = delete;
  TemplateMiner& operator=(const TemplateMiner&) = delete;

  /// Mines one message. Thread-safe (see the file comment). When `template_out` is given it
  /// receives the template text as it stands after this message.
  MinedTemplate mine(std::string_view message, MinerScratch& scratch,
                     std::string* template_out = nullptr);

  /// Current text of template `id`; empty when there is no such template. Thread-safe.
  std::string template_text(std::uint32_t id) const;
  /// Number of templates. Thread-safe.
  std::size_t size() const;
  /// All templates as (id, text), by id. Thread-safe; a consistent view per shard.
  std::vector<std::pair<std::uint32_t, std::string>> templates() const;

  /// Writes the table to `path` (`id<TAB>template` lines after a header), through a temporary
  /// file and a rename so a crash never leaves a half-written table. Thread-safe.
  Result<void> save(const std::filesystem::path& path) const;
  /// Loads a table written by `save` into this (empty) miner, keeping every id; new templates
  /// then get ids above the largest loaded one. Errors name the file and line.
  Result<void> load(const std::filesystem::path& path);
  /// Adds a template with a given id (used by `load`; ids must be unique and non-zero).
  Result<void> add_template(std::uint32_t id, std::string_view text);

  const TemplateMinerConfig& config() const { return config_; }

 private:
  struct Cluster;
  struct Node;
  struct Shard;
  struct IndexEntry {
    Cluster* cluster;
    Shard* shard;
  };

  Node* route(Node* length_node, const MinerScratch& s, bool create);
  Cluster* best_match(Node* leaf, const MinerScratch& s, double& similarity) const;
  void index_cluster(Cluster* cluster, Shard* shard);

  TemplateMinerConfig config_;
  std::uint64_t serial_;  ///< distinguishes miners in `MinerScratch::cache_owner`
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<std::uint32_t> next_id_{1};
  mutable std::shared_mutex index_mutex_;
  std::vector<IndexEntry> index_;  ///< by id; index_[0] unused
};

}  // namespace sluice
