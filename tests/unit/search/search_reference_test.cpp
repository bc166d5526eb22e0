// SPDX-License-Identifier: Apache-2.0
/// Differential test of the search engine: a store built from every Loghub 2k file, a set of
/// queries, and for each the engine's matches (Hyperscan, pruning, parallel scan, ordered merge)
/// against a brute-force reference that applies query.hpp's semantics naively to the events as
/// they were written (std::string::find, std::regex, inet_pton). Free-text counts are also checked
/// against `LC_ALL=C grep -iwF -c` on the raw files.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>

#include "sluice/event/event_batch.hpp"
#include "sluice/parse/parser.hpp"
#include "sluice/search/search.hpp"
#include "sluice/store/store_output.hpp"
#include "tests_support.hpp"

namespace sluice::search {
namespace {

using test::TempDir;

/// An event as written, with its bytes owned.
struct Rec {
  std::int64_t time = 0;
  std::uint64_t seq = 0;
  std::string raw, host, app, procid, msgid, message, path, peer_ip, format;
  std::uint64_t line = 0;
  std::uint32_t templ = 0;
  std::uint8_t facility = no_facility, severity = no_severity;
  std::uint16_t port = 0;
  bool has_peer = false;
  std::vector<std::pair<std::string, std::string>> fields;
};

constexpr std::int64_t base_receive_ns = 1'700'000'000'000'000'000;

std::string lower(std::string_view s) {
  std::string o(s);
  for (auto& c : o)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return o;
}

bool word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

/// `grep -iwF` on one line, the slow obvious way.
bool ref_contains_word(const std::string& text, const std::string& needle) {
  const std::string t = lower(text), n = lower(needle);
  for (std::size_t at = t.find(n); at != std::string::npos; at = t.find(n, at + 1)) {
    const bool left = at == 0 || !word_char(t[at - 1]);
    const bool right = at + n.size() == t.size() || !word_char(t[at + n.size()]);
    if (left && right) return true;
  }
  return false;
}

std::string regex_escape(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return std::string(1, c);
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
  return buf;
}

/// Word-bounded wildcard (`*` = token bytes, `?` = one token byte) as an ECMAScript regex.
std::regex wildcard_regex(const std::string& pattern) {
  std::string r = "(^|[^A-Za-z0-9_])";
  for (char c : pattern) {
    if (c == '*') {
      r += "[A-Za-z0-9_]*";
    } else if (c == '?') {
      r += "[A-Za-z0-9_]";
    } else {
      r += regex_escape(c);
    }
  }
  r += "([^A-Za-z0-9_]|$)";
  return std::regex(r, std::regex::ECMAScript | std::regex::icase);
}

/// Whole-value glob (`*` = any bytes) as an anchored regex.
std::regex glob_regex(const std::string& pattern) {
  std::string r;
  for (char c : pattern) {
    if (c == '*') {
      r += "[\\s\\S]*";
    } else if (c == '?') {
      r += "[\\s\\S]";
    } else {
      r += regex_escape(c);
    }
  }
  return std::regex(r, std::regex::ECMAScript | std::regex::icase);
}

std::optional<std::string> ref_field(const Rec& r, const FieldRef& f) {
  auto opt = [](const std::string& s) -> std::optional<std::string> {
    if (s.empty()) return std::nullopt;
    return s;
  };
  switch (f.id) {
    case FieldId::raw:
      return opt(r.raw);
    case FieldId::message:
      return opt(r.message);
    case FieldId::host:
      return opt(r.host);
    case FieldId::app:
      return opt(r.app);
    case FieldId::procid:
      return opt(r.procid);
    case FieldId::msgid:
      return opt(r.msgid);
    case FieldId::source_ip:
      if (!r.has_peer) return std::nullopt;
      return r.peer_ip;
    case FieldId::source_port:
      if (!r.has_peer) return std::nullopt;
      return std::to_string(r.port);
    case FieldId::source_path:
      return opt(r.path);
    case FieldId::line:
      if (r.line == 0) return std::nullopt;
      return std::to_string(r.line);
    case FieldId::facility:
      if (r.facility == no_facility) return std::nullopt;
      return std::to_string(r.facility);
    case FieldId::severity:
      if (r.severity == no_severity) return std::nullopt;
      return std::to_string(r.severity);
    case FieldId::format:
      return r.format;
    case FieldId::template_id:
      if (r.templ == 0) return std::nullopt;
      return std::to_string(r.templ);
    case FieldId::extracted:
      for (const auto& [k, v] : r.fields)
        if (k == f.name) return opt(v);
      return std::nullopt;
  }
  return std::nullopt;
}

bool ref_in_cidr(const std::string& ip, const Cidr& c) {
  std::uint8_t a[16] = {};
  int family = 0;
  if (::inet_pton(AF_INET, ip.c_str(), a) == 1) {
    family = 4;
  } else if (::inet_pton(AF_INET6, ip.c_str(), a) == 1) {
    family = 6;
  }
  if (family != c.family) return false;
  for (unsigned bit = 0; bit < c.bits; ++bit) {
    const unsigned byte = bit / 8, shift = 7 - bit % 8;
    if (((a[byte] >> shift) & 1) != ((c.address[byte] >> shift) & 1)) return false;
  }
  return true;
}

/// The reference evaluator. Regexes are compiled once per term and cached.
class Reference {
 public:
  bool eval(const Rec& r, const Expr& e) {
    switch (e.op) {
      case Expr::Op::all:
        return true;
      case Expr::Op::term:
        return term(r, e.term);
      case Expr::Op::and_:
        for (const auto& c : e.children)
          if (!eval(r, c)) return false;
        return true;
      case Expr::Op::or_:
        for (const auto& c : e.children)
          if (eval(r, c)) return true;
        return false;
      case Expr::Op::not_:
        return !eval(r, e.children[0]);
    }
    return false;
  }

 private:
  const std::regex& cached(const Term& t, std::regex (*make)(const Term&)) {
    auto it = regexes_.find(&t);
    if (it == regexes_.end()) it = regexes_.emplace(&t, make(t)).first;
    return it->second;
  }
  static std::regex user_regex(const Term& t) {
    return std::regex(
        t.value, t.caseless ? std::regex::ECMAScript | std::regex::icase : std::regex::ECMAScript);
  }
  static std::regex wild(const Term& t) { return wildcard_regex(t.value); }
  static std::regex glob(const Term& t) { return glob_regex(t.value); }

  bool term(const Rec& r, const Term& t) {
    const FieldId id = t.field ? t.field->id : FieldId::raw;
    if (id == FieldId::raw || id == FieldId::message) {
      const std::string& text = id == FieldId::raw ? r.raw : r.message;
      if (id == FieldId::message && text.empty()) return false;
      switch (t.kind) {
        case TermKind::text:
          return ref_contains_word(text, t.value);
        case TermKind::wildcard:
          return std::regex_search(text, cached(t, wild));
        case TermKind::regex:
          return std::regex_search(text, cached(t, user_regex));
        case TermKind::cidr:
          break;
      }
    }
    auto v = ref_field(r, *t.field);
    if (!v) return false;
    switch (t.kind) {
      case TermKind::text:
        return lower(*v) == lower(t.value);
      case TermKind::wildcard:
        return std::regex_match(*v, cached(t, glob));
      case TermKind::regex:
        return std::regex_search(*v, cached(t, user_regex));
      case TermKind::cidr:
        return ref_in_cidr(*v, t.cidr);
    }
    return false;
  }

  std::map<const Term*, std::regex> regexes_;
};

/// The Loghub store, built once for the whole suite.
class SearchReference : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto dir = test::data_path("loghub");
    if (!dir) return;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(*dir)) {
      const auto name = entry.path().filename().string();
      if (name.size() > 7 && name.substr(name.size() - 7) == "_2k.log") files_.push_back(entry);
    }
    std::sort(files_.begin(), files_.end());
    tmp_ = new TempDir();
    store_ = tmp_->path() / "store";
    StoreConfig config;
    config.path = store_.string();
    // Small segments, so the store has many units to prune, scan in parallel and merge.
    config.segment_bytes = 256 << 10;
    config.max_segment_age_seconds = 0;
    config.fsync = "none";
    auto out = StoreOutput::open(config);
    ASSERT_TRUE(out) << out.error().message;
    Parser parser;
    std::uint64_t seq = 0;
    for (const auto& file : files_) {
      std::ifstream in(file);
      std::string line;
      std::uint64_t n = 0;
      auto batch = std::make_unique<EventBatch>(1, 512);
      batch->set_source_path(file.string());
      auto flush = [&] {
        std::string bytes;
        (*out)->render(*batch, {}, nullptr, bytes);
        ASSERT_TRUE((*out)->write(bytes));
        batch = std::make_unique<EventBatch>(1, 512);
        batch->set_source_path(file.string());
      };
      while (std::getline(in, line)) {
        ++n;
        // Lines without their own time keep distinct, increasing receive times.
        Event& e =
            batch->add_record(line, base_receive_ns + static_cast<std::int64_t>(seq) * 1'000'000);
        e.line = n;
        if (seq % 3 == 0) {
          e.peer = PeerAddress::ipv4((10u << 24) | static_cast<std::uint32_t>(seq % 65536), 514);
        } else if (seq % 3 == 1) {
          e.peer = PeerAddress::ipv4(
              (192u << 24) | (168u << 16) | static_cast<std::uint32_t>(seq % 1024), 1514);
        } else if (seq % 9 == 2) {
          std::uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8};
          a[15] = static_cast<std::uint8_t>(seq);
          e.peer = PeerAddress::ipv6(a, 6514);
        }
        parser.parse(e, batch->arena());
        e.template_id = static_cast<std::uint32_t>(seq % 7);
        Rec r;
        r.time = e.event_time_ns;
        r.seq = seq++;
        r.raw = e.raw;
        r.host = e.host;
        r.app = e.app;
        r.procid = e.procid;
        r.msgid = e.msgid;
        r.message = e.message;
        r.path = file.string();
        r.line = e.line;
        r.templ = e.template_id;
        r.facility = e.facility;
        r.severity = e.severity;
        r.format = std::string(to_string(e.format));
        r.has_peer = e.peer.family != 0;
        if (r.has_peer) {
          r.peer_ip = e.peer.address_string();
          r.port = e.peer.port;
        }
        for (const auto& f : e.fields)
          r.fields.emplace_back(std::string(f.name), std::string(f.value));
        recs_.push_back(std::move(r));
        if (batch->size() == 512) flush();
      }
      if (!batch->empty()) flush();
    }
    ASSERT_TRUE((*out)->close());
  }

  static void TearDownTestSuite() {
    delete tmp_;
    tmp_ = nullptr;
    recs_.clear();
    files_.clear();
  }

  void SetUp() override {
    if (files_.empty())
      GTEST_SKIP() << "real data not found: loghub (set SLUICE_TEST_DATA to the shared data "
                      "folder; default ../shared/data)";
  }

  static std::unique_ptr<CompiledQuery> compile(const std::string& q) {
    auto p = parse_query(q);
    EXPECT_TRUE(p.query) << q << ": " << format_query_error(q, p.error);
    if (!p.query) return nullptr;
    QueryError err;
    auto c = CompiledQuery::compile(*p.query, err);
    EXPECT_TRUE(c) << q << ": " << format_query_error(q, err);
    return c;
  }

  /// The engine's matches, as sequence numbers in output order.
  static std::vector<std::uint64_t> engine(const CompiledQuery& q, const SearchOptions& o = {},
                                           SearchStats* stats = nullptr) {
    std::vector<std::uint64_t> seqs;
    std::int64_t last_time = std::numeric_limits<std::int64_t>::min();
    bool ordered = true;
    auto r = search_events(store_, q, o, nullptr, [&](const SearchHit& h) {
      ordered = ordered && h.time_ns >= last_time;
      last_time = h.time_ns;
      seqs.push_back(h.sequence);
      return true;
    });
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    EXPECT_TRUE(ordered) << "hits not in event-time order";
    if (r && stats != nullptr) *stats = *r;
    return seqs;
  }

  /// The reference's matches, sorted by (time, sequence).
  static std::vector<std::uint64_t> reference(const Query& q, std::int64_t from = INT64_MIN,
                                              std::int64_t to = INT64_MAX) {
    Reference ref;
    std::vector<const Rec*> hits;
    for (const auto& r : recs_)
      if (r.time >= from && r.time < to && ref.eval(r, q.root)) hits.push_back(&r);
    std::sort(hits.begin(), hits.end(), [](const Rec* a, const Rec* b) {
      return a->time != b->time ? a->time < b->time : a->seq < b->seq;
    });
    std::vector<std::uint64_t> seqs;
    for (auto* h : hits)
      seqs.push_back(h->seq);
    return seqs;
  }

  static inline TempDir* tmp_ = nullptr;
  static inline std::filesystem::path store_;
  static inline std::vector<std::filesystem::path> files_;
  static inline std::vector<Rec> recs_;
};

/// The query set: every construct of the language, on what the Loghub files contain.
const char* const reference_queries[] = {
    "\"Failed password\"",
    "failed",
    "Invalid user",
    "\"invalid user\"",
    "fail*",
    "pass?ord",
    "/inv.lid user/",
    "/Accepted [a-z]+ for/",
    "/error/i",
    "/[0-9]{3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}/",
    "host:LabSZ",
    "host:combo AND sshd",
    "app:sshd",
    "process.name:\"sshd(pam_unix)\"",
    "app:sshd*",
    "pid:24200",
    "error OR warn",
    "NOT sshd",
    "sshd NOT \"Failed password\"",
    "(ftpd OR sshd) AND connection",
    "authentication failure",
    "\"authentication failure\" rhost",
    "source.ip:10.0.0.0/8",
    "source.ip:2001:db8::/32",
    "ip:192.168.1.7",
    "source.ip:192.168.0.0/23 AND kernel",
    "message:root",
    "message:fail*",
    "log.file.path:*OpenSSH*",
    "format:rfc3164",
    "template:3",
    "line:100",
    "blk_*",
    "INFO AND dfs.DataNode*",
    "\"session opened\" OR \"session closed\"",
    "rhost:218.188.2.4",
    "uid:0 AND NOT euid:0",
    "*",
    "173.234.31.*",
    "\"[preauth]\"",
    "NOT (sshd OR ftpd) error",
    "\"POSSIBLE BREAK-IN ATTEMPT!\"",
    "source.port:1514 AND (Hadoop* OR spark)",
    "/session (opened|closed)/ AND NOT host:combo",
    "message:/^Connection/",
    "zzz_not_in_any_log",
    "\"user root\" OR user:root",
};

TEST_F(SearchReference, QueriesMatchBruteForce) {
  std::size_t nonempty = 0;
  for (const char* q : reference_queries) {
    SCOPED_TRACE(q);
    auto c = compile(q);
    ASSERT_TRUE(c);
    const auto want = reference(c->query());
    const auto got = engine(*c);
    EXPECT_EQ(got.size(), want.size());
    EXPECT_TRUE(got == want);
    if (!want.empty()) ++nonempty;
  }
  // The set must exercise the engine: nearly every query finds something.
  EXPECT_GE(nonempty, std::size(reference_queries) - 2);
}

TEST_F(SearchReference, TimeRangesAndLimit) {
  auto c = compile("sshd OR INFO");
  ASSERT_TRUE(c);
  auto all = reference(c->query());
  ASSERT_GT(all.size(), 100u);
  // A window cut from the middle of the matches' times.
  std::vector<std::int64_t> times;
  for (auto s : all)
    times.push_back(recs_[s].time);
  const std::int64_t from = times[times.size() / 4], to = times[times.size() / 2];
  SearchOptions o;
  o.from_ns = from;
  o.to_ns = to;
  SearchStats stats;
  EXPECT_EQ(engine(*c, o, &stats), reference(c->query(), from, to));
  EXPECT_GT(stats.units_pruned_time + stats.segments_skipped, 0u)
      << "nothing outside a narrow range was skipped";
  EXPECT_GT(stats.segments_skipped, 0u) << "every segment was opened for a narrow range";
  SearchOptions limited;
  limited.limit = 25;
  auto first = engine(*c, limited);
  all.resize(25);
  EXPECT_EQ(first, all);
}

// `| count` of every reference query equals the number of its reference matches. Queries on the
// raw line alone take the raw-only path (only raw lines decompressed and matched); the others
// decode every field. Both must agree with the brute-force evaluator.
TEST_F(SearchReference, CountsOfEveryQueryMatchBruteForce) {
  std::size_t raw_only = 0;
  for (const char* q : reference_queries) {
    SCOPED_TRACE(q);
    auto plain = compile(q);
    ASSERT_TRUE(plain);
    auto c = compile(std::string(q) + " | count");
    ASSERT_TRUE(c);
    if (c->raw_only()) ++raw_only;
    auto r = aggregate(store_, *c, {});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->count, reference(plain->query()).size());
    EXPECT_TRUE(r->stats.errors.empty());
  }
  EXPECT_GE(raw_only, 10u) << "too few raw-only queries to exercise that path";
}

TEST_F(SearchReference, AggregatesMatchBruteForce) {
  struct Case {
    const char* query;
  };
  for (const char* q : {"| count", "sshd | count", "| count by host", "fail* | count by app",
                        "| top 3 process.name", "| count by template", "| count by source.ip",
                        "\"Failed password\" | timechart span=1h", "| timechart span=1d"}) {
    SCOPED_TRACE(q);
    auto c = compile(q);
    ASSERT_TRUE(c);
    auto r = aggregate(store_, *c, {});
    ASSERT_TRUE(r) << r.error().message;
    const Query& query = c->query();
    Reference ref;
    std::uint64_t count = 0;
    std::map<std::string, std::uint64_t> by;
    std::map<std::int64_t, std::uint64_t> buckets;
    for (const auto& rec : recs_) {
      if (!ref.eval(rec, query.root)) continue;
      ++count;
      if (query.aggregation.kind == Aggregation::Kind::count_by ||
          query.aggregation.kind == Aggregation::Kind::top) {
        if (auto v = ref_field(rec, query.aggregation.field)) ++by[*v];
      } else if (query.aggregation.kind == Aggregation::Kind::timechart) {
        const auto span = query.aggregation.span_ns;
        std::int64_t b = rec.time / span;
        if (rec.time % span < 0) --b;
        ++buckets[b * span];
      }
    }
    EXPECT_EQ(r->count, count);
    if (query.aggregation.kind == Aggregation::Kind::count_by ||
        query.aggregation.kind == Aggregation::Kind::top) {
      std::vector<std::pair<std::string, std::uint64_t>> want(by.begin(), by.end());
      std::stable_sort(want.begin(), want.end(),
                       [](const auto& a, const auto& b) { return a.second > b.second; });
      if (query.aggregation.kind == Aggregation::Kind::top && want.size() > query.aggregation.top_n)
        want.resize(query.aggregation.top_n);
      ASSERT_EQ(r->rows.size(), want.size());
      for (std::size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ(r->rows[i].key, want[i].first);
        EXPECT_EQ(r->rows[i].count, want[i].second);
      }
    } else if (query.aggregation.kind == Aggregation::Kind::timechart) {
      std::uint64_t sum = 0;
      for (const auto& row : r->rows) {
        auto it = buckets.find(row.bucket_ns);
        EXPECT_EQ(row.count, it == buckets.end() ? 0u : it->second) << row.key;
        sum += row.count;
      }
      EXPECT_EQ(sum, count);
      ASSERT_FALSE(r->rows.empty());
      EXPECT_EQ(r->rows.front().bucket_ns, buckets.begin()->first);
      EXPECT_EQ(r->rows.back().bucket_ns, buckets.rbegin()->first);
    }
  }
}

TEST_F(SearchReference, FreeTextCountsEqualGrep) {
  for (const char* text :
       {"Failed password", "invalid", "error", "session opened", "INFO", "blk_-6952295868487656571",
        "[preauth]", "connection from", "kernel:", "root"}) {
    SCOPED_TRACE(text);
    std::uint64_t grep_total = 0;
    for (const auto& f : files_) {
      std::string out, err;
      // grep exits 1 when nothing matches; -c still prints 0.
      const int rc = test::run_command(
          {"/usr/bin/env", "LC_ALL=C", "grep", "-iwFc", text, f.string()}, out, err);
      ASSERT_TRUE(rc == 0 || rc == 1) << err;
      grep_total += std::stoull(out);
    }
    std::string q = "\"";
    q += text;
    q += "\" | count";
    auto c = compile(q);
    ASSERT_TRUE(c);
    auto r = aggregate(store_, *c, {});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->count, grep_total);
  }
}

TEST_F(SearchReference, IndexPrunesAndCountsWithoutDecoding) {
  auto needle = compile("blk_-6952295868487656571");
  ASSERT_TRUE(needle);
  SearchStats stats;
  EXPECT_EQ(engine(*needle, {}, &stats), reference(needle->query()));
  EXPECT_GT(stats.units, 4u);
  EXPECT_GE(stats.units_pruned_index, stats.units - 2) << "the token filters pruned too little";
  auto by_host = compile("| count by host");
  ASSERT_TRUE(by_host);
  auto r = aggregate(store_, *by_host, {});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stats.units_fast, r->stats.units) << "count by host decoded blocks";
  EXPECT_EQ(r->stats.events_scanned, 0u);
}

TEST(SearchActiveSegment, UnsealedRecordsAreSearchedBeforeAndAfterSealing) {
  TempDir tmp;
  StoreConfig config;
  config.path = (tmp.path() / "store").string();
  config.segment_bytes = 1 << 20;
  config.max_segment_age_seconds = 0;
  config.fsync = "none";
  auto out = StoreOutput::open(config);
  ASSERT_TRUE(out) << out.error().message;
  auto batch = std::make_unique<EventBatch>(1, 64);
  Parser parser;
  for (int i = 0; i < 50; ++i) {
    const std::string line = "<13>Nov 28 09:00:" + std::to_string(10 + i) + " web" +
                             std::to_string(i % 3) + " sshd[1]: Failed password for user" +
                             std::to_string(i);
    Event& e = batch->add_record(line, base_receive_ns);
    parser.parse(e, batch->arena());
  }
  std::string bytes;
  (*out)->render(*batch, {}, nullptr, bytes);
  ASSERT_TRUE((*out)->write(bytes));
  auto p = parse_query("\"failed password\" host:web1");
  QueryError err;
  auto c = CompiledQuery::compile(*p.query, err);
  ASSERT_TRUE(c);
  const auto run = [&] {
    std::vector<std::uint64_t> seqs;
    auto r = search_events(config.path, *c, {}, nullptr, [&](const SearchHit& h) {
      seqs.push_back(h.sequence);
      return true;
    });
    EXPECT_TRUE(r);
    return seqs;
  };
  std::vector<std::uint64_t> want;
  for (std::uint64_t i = 1; i < 50; i += 3)
    want.push_back(i);
  EXPECT_EQ(run(), want);  // the active segment: a record log
  ASSERT_TRUE((*out)->close());
  EXPECT_EQ(run(), want);  // sealed into blocks
}

TEST(SearchCorruption, CorruptSegmentIsReportedAndTheRestSearched) {
  SLUICE_REQUIRE_DATA(log, "loghub/OpenSSH/OpenSSH_2k.log");
  TempDir tmp;
  const auto dir = tmp.path() / "store";
  StoreConfig config;
  config.path = dir.string();
  config.segment_bytes = 64 << 10;
  config.max_segment_age_seconds = 0;
  config.fsync = "none";
  {
    auto out = StoreOutput::open(config);
    ASSERT_TRUE(out) << out.error().message;
    Parser parser;
    std::ifstream in(log);
    auto batch = std::make_unique<EventBatch>(1, 2048);
    std::int64_t t = base_receive_ns;
    for (std::string line; std::getline(in, line);) {
      Event& e = batch->add_record(line, t += 1'000'000);
      parser.parse(e, batch->arena());
    }
    std::string bytes;
    (*out)->render(*batch, {}, nullptr, bytes);
    ASSERT_TRUE((*out)->write(bytes));
    ASSERT_TRUE((*out)->close());
  }
  std::vector<std::filesystem::path> segs;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".sls") segs.push_back(e.path());
  std::sort(segs.begin(), segs.end());
  ASSERT_GE(segs.size(), 3u);
  auto parsed = parse_query("sshd");
  QueryError err;
  auto c = CompiledQuery::compile(*parsed.query, err);
  ASSERT_TRUE(c);
  const auto collect = [&](SearchStats& stats) {
    std::vector<std::uint64_t> seqs;
    auto r = search_events(dir, *c, {}, nullptr, [&](const SearchHit& h) {
      seqs.push_back(h.sequence);
      return true;
    });
    EXPECT_TRUE(r);
    if (r) stats = *r;
    return seqs;
  };
  SearchStats clean_stats;
  const auto before = collect(clean_stats);
  ASSERT_TRUE(clean_stats.errors.empty());
  ASSERT_GT(before.size(), 1000u);
  // Flip bytes in the middle of the second segment.
  const auto victim = segs[1];
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    const auto size = std::filesystem::file_size(victim);
    f.seekp(static_cast<std::streamoff>(size / 2));
    const char junk[16] = {'\x5a', '\x5a', '\x5a', '\x5a', '\x5a', '\x5a', '\x5a', '\x5a',
                           '\x5a', '\x5a', '\x5a', '\x5a', '\x5a', '\x5a', '\x5a', '\x5a'};
    f.write(junk, sizeof junk);
  }
  SearchStats stats;
  const auto after = collect(stats);
  ASSERT_FALSE(stats.errors.empty());
  for (const auto& e : stats.errors) {
    EXPECT_EQ(e.path, victim);
    EXPECT_NE(e.message.find(victim.filename().string()), std::string::npos) << e.message;
  }
  // Every match outside the damaged segment is still found, in the same order.
  const auto first_of = [](const std::filesystem::path& p) {
    return std::stoull(p.filename().string().substr(4, 16), nullptr, 16);
  };
  const std::uint64_t lost_from = first_of(segs[1]), lost_to = first_of(segs[2]);
  const auto outside = [&](const std::vector<std::uint64_t>& v) {
    std::vector<std::uint64_t> o;
    for (auto s : v)
      if (s < lost_from || s >= lost_to) o.push_back(s);
    return o;
  };
  EXPECT_EQ(outside(after), outside(before));
  EXPECT_LT(after.size(), before.size());
  // The raw-only count path reports the same segment and counts at least every match outside it.
  auto counted = parse_query("sshd | count");
  auto cc = CompiledQuery::compile(*counted.query, err);
  ASSERT_TRUE(cc);
  ASSERT_TRUE(cc->raw_only());
  auto r = aggregate(dir, *cc, {});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_FALSE(r->stats.errors.empty());
  for (const auto& e : r->stats.errors)
    EXPECT_EQ(e.path, victim) << e.message;
  EXPECT_GE(r->count, outside(before).size());
  EXPECT_LT(r->count, before.size());
}

}  // namespace
}  // namespace sluice::search
