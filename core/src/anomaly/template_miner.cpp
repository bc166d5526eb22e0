// SPDX-License-Identifier: Apache-2.0
/// The Drain-style miner: masking, the fixed-depth tree and the sharded, persisted template table.
/// Hot path: `mask_message` (one pass over the bytes) and, under a shard's shared lock, one walk
/// down the tree and a comparison of token hashes with the templates in one leaf.
#include "sluice/anomaly/template_miner.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <unordered_map>

namespace sluice {

namespace {

/// Hash of the wildcard token. Any fixed value works; templates compare hashes, and a 64-bit
/// collision between two different tokens of one leaf is negligible (about 2^-64 per pair).
constexpr std::uint64_t wildcard_hash = 0x5bd1e9955bd1e995ull;

/// 64-bit hash of a token: 8 bytes a step with a multiply and a fold.
inline std::uint64_t hash_token(std::string_view t) {
  std::uint64_t h = 0x243f6a8885a308d3ull ^ (t.size() * 0x9e3779b97f4a7c15ull);
  const char* p = t.data();
  std::size_t n = t.size();
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  std::uint64_t w = 0;
  std::memcpy(&w, p, n);
  h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
  h ^= h >> 31;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 32;
  return h == wildcard_hash ? h + 1 : h;
}

enum CharClass : std::uint8_t { plain = 0, space = 1, delimiter = 2, digit = 4 };

/// Whitespace separates tokens. Delimiters separate the parts of a token that are masked on
/// their own, so `uid=0)` becomes `uid=<*>)` and `ActivityRecord{de9231d` becomes
/// `ActivityRecord{<*>`. `.`, `:`, `-`, `_` and `/` are not delimiters: they join the parts of
/// one value (addresses with ports, dotted versions, node names such as `R02-M1-N0-C:J12-U11`,
/// block ids, paths), which are then masked whole.
constexpr std::array<std::uint8_t, 256> char_classes = [] {
  std::array<std::uint8_t, 256> c{};
  for (char ch : {' ', '\t', '\n', '\r', '\v', '\f'})
    c[static_cast<unsigned char>(ch)] = space;
  for (char ch : {'=', ',', '(', ')', '[', ']', '{', '}', '"', '\'', ';', '<', '>', '|'})
    c[static_cast<unsigned char>(ch)] = delimiter;
  for (char ch = '0'; ch <= '9'; ++ch)
    c[static_cast<unsigned char>(ch)] = digit;
  return c;
}();

inline std::uint8_t cls(char ch) {
  return char_classes[static_cast<unsigned char>(ch)];
}

/// True for the English day and month abbreviations that timestamps spell out ("Sun Jul  3").
inline bool is_date_word(std::string_view part) {
  if (part.size() != 3 || part[0] < 'A' || part[0] > 'Z') return false;
  static constexpr std::string_view words[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun",
                                               "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
                                               "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (auto w : words)
    if (part == w) return true;
  return false;
}

/// True when a token part is a variable: it holds a digit, it is a path (`/a`, `/a/b`) or a
/// URL (`scheme://...`), or it is a day or month name (part of a timestamp).
inline bool is_variable(std::string_view part, bool has_digit) {
  if (has_digit) return true;
  if (is_date_word(part)) return true;
  if (part.size() > 1 && part[0] == '/') return true;
  return part.find("://") != std::string_view::npos;
}

/// Appends the masked form of one whitespace-free token to `out`; returns true when the whole
/// token became the wildcard.
inline bool mask_token(std::string_view tok, std::string& out) {
  const std::size_t start = out.size();
  std::size_t i = 0;
  const std::size_t n = tok.size();
  while (i < n) {
    if (cls(tok[i]) == delimiter) {
      out.push_back(tok[i]);
      ++i;
      continue;
    }
    std::size_t j = i;
    bool has_digit = false;
    while (j < n && cls(tok[j]) != delimiter) {
      has_digit |= cls(tok[j]) == digit;
      ++j;
    }
    const std::string_view part = tok.substr(i, j - i);
    if (is_variable(part, has_digit))
      out.append(template_wildcard);
    else
      out.append(part);
    i = j;
  }
  return std::string_view(out).substr(start) == template_wildcard;
}

}  // namespace

void mask_message(std::string_view message, std::size_t max_tokens, MinerScratch& s) {
  s.text.clear();
  s.offsets.clear();
  s.hashes.clear();
  s.offsets.push_back(0);
  if (max_tokens == 0) max_tokens = 1;
  std::uint64_t shape = 0x84222325cbf29ce4ull;
  std::size_t i = 0;
  const std::size_t n = message.size();
  const char* p = message.data();
  while (i < n) {
    while (i < n && cls(p[i]) == space)
      ++i;
    if (i >= n) break;
    if (s.hashes.size() + 1 == max_tokens) {
      // Past the token budget: the rest of the message is one variable.
      if (s.hashes.empty() || s.hashes.back() != wildcard_hash) {
        s.text.append(template_wildcard);
        s.offsets.push_back(static_cast<std::uint32_t>(s.text.size()));
        s.hashes.push_back(wildcard_hash);
        shape = (shape ^ wildcard_hash) * 0x9e3779b97f4a7c15ull;
      }
      break;
    }
    // One pass over the token to classify it; most tokens are plain words or plain numbers and
    // skip the part-by-part masking.
    std::size_t j = i;
    std::uint8_t seen = 0;
    while (j < n) {
      const std::uint8_t c = cls(p[j]);
      if (c == space) break;
      seen |= c;
      ++j;
    }
    const std::string_view tok(p + i, j - i);
    i = j;
    const std::size_t start = s.text.size();
    bool wild;
    if ((seen & delimiter) == 0) {
      wild = is_variable(tok, (seen & digit) != 0);
      if (!wild) s.text.append(tok);
    } else {
      wild = mask_token(tok, s.text);
    }
    if (wild && !s.hashes.empty() && s.hashes.back() == wildcard_hash) {
      // A run of variables is one variable: lists of ids of any length ("delete blk_1 blk_2
      // ...") and spelled-out timestamps ("Sun Jul 3 12:00:00 2005") keep one shape.
      s.text.resize(start);
      continue;
    }
    std::uint64_t h = wildcard_hash;
    if (wild) {
      s.text.resize(start);
      s.text.append(template_wildcard);
    } else {
      h = hash_token(std::string_view(s.text).substr(start));
    }
    s.offsets.push_back(static_cast<std::uint32_t>(s.text.size()));
    s.hashes.push_back(h);
    shape = (shape ^ h) * 0x9e3779b97f4a7c15ull;
    shape ^= shape >> 31;
  }
  s.shape = shape ^ s.hashes.size();
}

struct TemplateMiner::Cluster {
  std::uint32_t id = 0;
  std::vector<std::uint64_t> hashes;
  std::vector<std::string> tokens;
  std::string text;

  void rebuild_text() {
    text.clear();
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      if (i) text.push_back(' ');
      text.append(tokens[i]);
    }
  }
};

struct TemplateMiner::Node {
  std::unordered_map<std::uint64_t, std::unique_ptr<Node>> children;
  std::vector<Cluster*> clusters;
};

struct TemplateMiner::Shard {
  mutable std::shared_mutex mutex;
  std::unordered_map<std::size_t, std::unique_ptr<Node>> by_length;
  std::vector<std::unique_ptr<Cluster>> clusters;
};

namespace {
/// Shards of the table, by token count. Messages of one shape always meet in one shard; 64
/// keeps two workers on different shapes off each other's lock with high probability.
constexpr std::size_t shard_count = 64;
}  // namespace

namespace {
std::atomic<std::uint64_t> next_serial{1};
}  // namespace

TemplateMiner::TemplateMiner(TemplateMinerConfig config)
    : config_(config), serial_(next_serial.fetch_add(1, std::memory_order_relaxed)) {
  if (config_.depth < 3) config_.depth = 3;
  if (config_.max_children < 2) config_.max_children = 2;
  shards_.reserve(shard_count);
  for (std::size_t i = 0; i < shard_count; ++i)
    shards_.push_back(std::make_unique<Shard>());
  index_.resize(1, IndexEntry{nullptr, nullptr});
}

TemplateMiner::~TemplateMiner() = default;

TemplateMiner::Node* TemplateMiner::route(Node* node, const MinerScratch& s, bool create) {
  const std::size_t levels = std::min(config_.depth - 2, s.size());
  for (std::size_t d = 0; d < levels; ++d) {
    const std::uint64_t h = s.hashes[d];
    auto it = node->children.find(h);
    if (it != node->children.end()) {
      node = it->second.get();
      continue;
    }
    if (!create) {
      auto w = node->children.find(wildcard_hash);
      if (w == node->children.end()) return nullptr;
      node = w->second.get();
      continue;
    }
    const std::uint64_t key =
        (h != wildcard_hash && node->children.size() + 1 < config_.max_children) ? h
                                                                                 : wildcard_hash;
    auto& child = node->children[key];
    if (!child) child = std::make_unique<Node>();
    node = child.get();
  }
  return node;
}

TemplateMiner::Cluster* TemplateMiner::best_match(Node* leaf, const MinerScratch& s,
                                                  double& similarity) const {
  Cluster* best = nullptr;
  double best_sim = -1;
  std::size_t best_params = 0;
  const std::size_t n = s.size();
  for (Cluster* c : leaf->clusters) {
    std::size_t same = 0;
    std::size_t params = 0;
    std::size_t both_wild = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t h = c->hashes[i];
      params += h == wildcard_hash;
      same += h == s.hashes[i];
      both_wild += (h == wildcard_hash) & (s.hashes[i] == wildcard_hash);
    }
    // Drain's seqDist (equal tokens over all tokens; ties go to the template with more
    // wildcards, the more general one), with one change: positions where both the template and
    // the message hold a masked variable are left out of the ratio. Drain counts them as
    // different, so a message made mostly of variables never reaches the threshold, not even
    // against a template of exactly its own masked text (Loghub Linux `connection from <*> ...`,
    // BIOS-e820 lines); counting them as equal instead merges short all-variable shapes.
    const std::size_t judged = n - both_wild;
    const double sim =
        judged == 0 ? 1.0 : static_cast<double>(same - both_wild) / static_cast<double>(judged);
    if (sim > best_sim || (sim == best_sim && params > best_params)) {
      best = c;
      best_sim = sim;
      best_params = params;
    }
  }
  similarity = best_sim;
  return best;
}

namespace {
inline bool needs_widening(const std::vector<std::uint64_t>& tmpl, const MinerScratch& s) {
  for (std::size_t i = 0; i < tmpl.size(); ++i)
    if (tmpl[i] != wildcard_hash && tmpl[i] != s.hashes[i]) return true;
  return false;
}
}  // namespace

void TemplateMiner::index_cluster(Cluster* cluster, Shard* shard) {
  std::unique_lock lock(index_mutex_);
  if (cluster->id >= index_.size()) index_.resize(cluster->id + 1, IndexEntry{nullptr, nullptr});
  index_[cluster->id] = IndexEntry{cluster, shard};
}

MinedTemplate TemplateMiner::mine(std::string_view message, MinerScratch& s,
                                  std::string* template_out) {
  mask_message(message, config_.max_tokens, s);
  const std::size_t n = s.size();
  Shard& shard = *shards_[n % shard_count];
  if (s.cache_owner != serial_ || s.shapes.size() >= max_cached_shapes) {
    s.shapes.clear();
    s.cache_owner = serial_;
  }
  if (auto it = s.shapes.find(s.shape); it != s.shapes.end()) {
    if (template_out) {
      std::shared_lock lock(shard.mutex);
      *template_out = static_cast<Cluster*>(it->second.second)->text;
    }
    return MinedTemplate{it->second.first, false, false};
  }
  {
    std::shared_lock lock(shard.mutex);
    auto it = shard.by_length.find(n);
    if (it != shard.by_length.end()) {
      if (Node* leaf = route(it->second.get(), s, false)) {
        double sim = 0;
        Cluster* c = best_match(leaf, s, sim);
        if (c && sim >= config_.similarity && !needs_widening(c->hashes, s)) {
          if (template_out) *template_out = c->text;
          s.shapes.emplace(s.shape, std::pair{c->id, static_cast<void*>(c)});
          return MinedTemplate{c->id, false, false};
        }
      }
    }
  }
  std::unique_lock lock(shard.mutex);
  auto& length_node = shard.by_length[n];
  if (!length_node) length_node = std::make_unique<Node>();
  // Search again: another thread may have created or widened the template meanwhile.
  if (Node* leaf = route(length_node.get(), s, false)) {
    double sim = 0;
    Cluster* c = best_match(leaf, s, sim);
    if (c && sim >= config_.similarity) {
      bool widened = false;
      for (std::size_t i = 0; i < n; ++i) {
        if (c->hashes[i] != wildcard_hash && c->hashes[i] != s.hashes[i]) {
          c->hashes[i] = wildcard_hash;
          c->tokens[i] = template_wildcard;
          widened = true;
        }
      }
      if (widened) c->rebuild_text();
      if (template_out) *template_out = c->text;
      s.shapes.emplace(s.shape, std::pair{c->id, static_cast<void*>(c)});
      return MinedTemplate{c->id, false, widened};
    }
  }
  Node* leaf = route(length_node.get(), s, true);
  auto cluster = std::make_unique<Cluster>();
  cluster->id = next_id_.fetch_add(1, std::memory_order_relaxed);
  cluster->hashes.assign(s.hashes.begin(), s.hashes.end());
  cluster->tokens.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    cluster->tokens.emplace_back(s.token(i));
  cluster->rebuild_text();
  Cluster* c = cluster.get();
  leaf->clusters.push_back(c);
  shard.clusters.push_back(std::move(cluster));
  index_cluster(c, &shard);
  if (template_out) *template_out = c->text;
  s.shapes.emplace(s.shape, std::pair{c->id, static_cast<void*>(c)});
  return MinedTemplate{c->id, true, false};
}

std::string TemplateMiner::template_text(std::uint32_t id) const {
  IndexEntry e{nullptr, nullptr};
  {
    std::shared_lock lock(index_mutex_);
    if (id == 0 || id >= index_.size()) return {};
    e = index_[id];
  }
  if (!e.cluster) return {};
  // Lock order: never hold the index lock while taking a shard lock (mine does the reverse).
  std::shared_lock lock(e.shard->mutex);
  return e.cluster->text;
}

std::size_t TemplateMiner::size() const {
  std::size_t total = 0;
  for (const auto& shard : shards_) {
    std::shared_lock lock(shard->mutex);
    total += shard->clusters.size();
  }
  return total;
}

std::vector<std::pair<std::uint32_t, std::string>> TemplateMiner::templates() const {
  std::vector<std::pair<std::uint32_t, std::string>> out;
  for (const auto& shard : shards_) {
    std::shared_lock lock(shard->mutex);
    for (const auto& c : shard->clusters)
      out.emplace_back(c->id, c->text);
  }
  std::sort(out.begin(), out.end());
  return out;
}

namespace {
constexpr std::string_view table_header = "# sluice templates v1";
}  // namespace

Result<void> TemplateMiner::save(const std::filesystem::path& path) const {
  const auto all = templates();
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    std::FILE* f = std::fopen(tmp.c_str(), "w");
    if (!f) return Error::from_errno("cannot write template table " + tmp.string());
    std::string line;
    bool ok =
        std::fprintf(f, "%.*s\n", static_cast<int>(table_header.size()), table_header.data()) > 0;
    for (const auto& [id, text] : all) {
      line.clear();
      line.append(std::to_string(id));
      line.push_back('\t');
      line.append(text);
      line.push_back('\n');
      ok = ok && std::fwrite(line.data(), 1, line.size(), f) == line.size();
    }
    ok = (std::fflush(f) == 0) && ok;
    const int err = errno;
    std::fclose(f);
    if (!ok) return Error::from_errno("cannot write template table " + tmp.string(), err);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec)
    return Error{"cannot rename " + tmp.string() + " to " + path.string() + ": " + ec.message()};
  return {};
}

Result<void> TemplateMiner::add_template(std::uint32_t id, std::string_view text) {
  if (id == 0) return Error{"template id 0 is reserved"};
  {
    std::shared_lock lock(index_mutex_);
    if (id < index_.size() && index_[id].cluster)
      return Error{"template id " + std::to_string(id) + " appears twice"};
  }
  auto cluster = std::make_unique<Cluster>();
  cluster->id = id;
  // The text is already masked: split on single spaces and take `<*>` as the wildcard.
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t j = text.find(' ', i);
    if (j == std::string_view::npos) j = text.size();
    if (j > i) {
      const std::string_view tok = text.substr(i, j - i);
      cluster->tokens.emplace_back(tok);
      cluster->hashes.push_back(tok == template_wildcard ? wildcard_hash : hash_token(tok));
    }
    i = j + 1;
  }
  cluster->rebuild_text();
  MinerScratch s;
  s.hashes = cluster->hashes;
  const std::size_t n = s.size();
  Shard& shard = *shards_[n % shard_count];
  Cluster* c = cluster.get();
  {
    std::unique_lock lock(shard.mutex);
    auto& length_node = shard.by_length[n];
    if (!length_node) length_node = std::make_unique<Node>();
    Node* leaf = route(length_node.get(), s, true);
    leaf->clusters.push_back(c);
    shard.clusters.push_back(std::move(cluster));
    index_cluster(c, &shard);
  }
  std::uint32_t next = next_id_.load(std::memory_order_relaxed);
  while (next <= id && !next_id_.compare_exchange_weak(next, id + 1)) {
  }
  return {};
}

Result<void> TemplateMiner::load(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return Error::from_errno("cannot open template table " + path.string());
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    const auto tab = line.find('\t');
    std::uint32_t id = 0;
    const auto [ptr, ec] =
        std::from_chars(line.data(), line.data() + std::min(tab, line.size()), id);
    if (tab == std::string::npos || ec != std::errc{} || ptr != line.data() + tab)
      return Error{path.string() + ":" + std::to_string(line_no) +
                   ": expected '<id><TAB><template>'"};
    auto r = add_template(id, std::string_view(line).substr(tab + 1));
    if (!r) return Error{path.string() + ":" + std::to_string(line_no) + ": " + r.error().message};
  }
  return {};
}

}  // namespace sluice
