// SPDX-License-Identifier: Apache-2.0
/// Public behaviour of `sluice/rules/sigma.hpp`: what the loader keeps, skips and rejects (with
/// which reason), selection by level and status, `action: global` collections, global filters,
/// what a detection reports in `matched`, and that scanning does not allocate per event.
#include "sluice/rules/sigma.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <new>
#include <set>
#include <thread>

#include "sluice/rules/rule_test.hpp"
#include "tests_support.hpp"

namespace {

std::atomic<std::size_t> allocations{0};

}  // namespace

// Counts heap allocations so the scan path can be checked for per-event allocations. Not under
// AddressSanitizer, which owns operator new itself.
#if defined(__SANITIZE_ADDRESS__)
#define SLUICE_COUNT_ALLOCATIONS 0
#else
#define SLUICE_COUNT_ALLOCATIONS 1
// GCC flags malloc/free inside replacement operators as a mismatch; they are the replacement.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
#pragma GCC diagnostic pop
#endif

namespace {

using sluice::rules::LoadReport;
using sluice::rules::SigmaOptions;

std::string cases_mapping() {
  return (std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "cases" /
          "sigma" / "mapping.yml")
      .string();
}

struct Loaded {
  std::shared_ptr<const sluice::RuleSet> set;
  LoadReport report;
};

Loaded load(const std::string& yaml, SigmaOptions options = {}) {
  Loaded l;
  if (options.mapping_path.empty()) options.mapping_path = cases_mapping();
  auto r = sluice::rules::load_sigma_text(yaml, "test.yml", options, l.report);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  if (r) l.set = r.value();
  return l;
}

std::string only_reason(const LoadReport& r) {
  if (r.skipped.size() + r.errors.size() != 1)
    return "<" + std::to_string(r.skipped.size()) + " skipped, " + std::to_string(r.errors.size()) +
           " errors>";
  return r.skipped.empty() ? "error: " + r.errors[0].reason : r.skipped[0].reason;
}

struct BadRule {
  const char* name;
  const char* yaml;
  const char* reason;
};

// Each rule the loader must not run, with the exact reason it reports (like Hyperscan's
// unit/hyperscan/bad_patterns.txt).
const BadRule bad_rules[] = {
    {"correlation",
     "title: c\nid: x\ncorrelation: {type: event_count, rules: [a], group-by: [User], timespan: "
     "5m, condition: {gte: 10}}\n",
     "correlation"},
    {"unknown logsource",
     "title: t\nlogsource: {product: nosuchproduct}\ndetection: {sel: {A: 1}, condition: sel}\n",
     "unknown logsource"},
    {"expand placeholder without values",
     "title: t\nlogsource: {product: test}\ndetection: {sel: {A|expand: '%Nobody%'}, condition: "
     "sel}\n",
     "unresolved placeholder"},
    {"time modifier",
     "title: t\nlogsource: {product: test}\ndetection: {sel: {A|hour: 3}, condition: sel}\n",
     "unsupported modifier"},
    {"aggregation",
     "title: t\nlogsource: {product: test}\ndetection: {sel: {A: 1}, condition: 'sel | count() by "
     "B > 3'}\n",
     "aggregation"},
    {"near",
     "title: t\nlogsource: {product: test}\ndetection: {a: {A: 1}, b: {B: 1}, condition: 'a near "
     "b'}\n",
     "aggregation"},
    {"unknown modifier",
     "title: t\nlogsource: {product: test}\ndetection: {sel: {A|bogus: 1}, condition: sel}\n",
     "error: unknown modifier"},
    {"undefined identifier",
     "title: t\nlogsource: {product: test}\ndetection: {sel: {A: 1}, condition: sel and other}\n",
     "error: invalid condition"},
    {"pattern matches nothing",
     "title: t\nlogsource: {product: test}\ndetection: {sel: {A: 1}, condition: 1 of filter*}\n",
     "error: invalid condition"},
    {"unbalanced brackets",
     "title: t\nlogsource: {product: test}\ndetection: {sel: {A: 1}, condition: (sel}\n",
     "error: invalid condition"},
    {"missing condition", "title: t\nlogsource: {product: test}\ndetection: {sel: {A: 1}}\n",
     "error: missing condition"},
    {"missing logsource", "title: t\ndetection: {sel: {A: 1}, condition: sel}\n",
     "error: missing logsource"},
    {"null in a list",
     "title: t\nlogsource: {product: test}\ndetection: {sel: {A: ['', null]}, condition: sel}\n",
     "error: invalid value"},
    {"bad cidr",
     "title: t\nlogsource: {product: test}\ndetection: {sel: {A|cidr: '10.0.0.0/99'}, condition: "
     "sel}\n",
     "error: invalid value"},
    {"non-numeric gt",
     "title: t\nlogsource: {product: test}\ndetection: {sel: {A|gt: ten}, condition: sel}\n",
     "error: invalid value"},
    {"re with contains",
     "title: t\nlogsource: {product: test}\ndetection: {sel: {A|re|contains: x}, condition: sel}\n",
     "error: invalid modifier"},
    {"bad regex",
     "title: t\nlogsource: {product: test}\ndetection: {sel: {A|re: 'a(b'}, condition: sel}\n",
     "unsupported regex"},
    {"lookahead (Hyperscan prefilters it, RE2 cannot confirm it)",
     "title: t\nlogsource: {product: test}\ndetection: {sel: {A|re: 'a(?=b)'}, condition: sel}\n",
     "unsupported regex"},
    {"yaml syntax", "title: [unclosed\n", "error: invalid yaml"},
};

TEST(SigmaLoader, BadRulesAreReportedWithTheirReason) {
  for (const auto& b : bad_rules) {
    auto l = load(b.yaml);
    EXPECT_EQ(l.report.loaded, 0u) << b.name;
    EXPECT_EQ(only_reason(l.report), b.reason) << b.name;
    for (const auto& d : l.report.skipped)
      EXPECT_FALSE(d.message.empty()) << b.name;
    for (const auto& d : l.report.errors)
      EXPECT_FALSE(d.message.empty()) << b.name;
  }
}

TEST(SigmaLoader, RegexFallbackToRe2IsCounted) {
  auto l = load(
      "title: t\nlogsource: {product: test}\ndetection: {sel: {A|re: '(?U)fo+bar'}, condition: "
      "sel}\n");
  EXPECT_EQ(l.report.loaded, 1u);
  EXPECT_EQ(l.report.regex_fallbacks, 1u);
  EXPECT_EQ(l.report.always_evaluated, 1u);  // no Hyperscan atom can trigger it
}

TEST(SigmaLoader, DiagnosticsNameTheLine) {
  auto l = load(
      "title: t\n"
      "logsource: {product: test}\n"
      "detection:\n"
      "  sel:\n"
      "    A|bogus: 1\n"
      "  condition: sel\n"
      "---\n"
      "title: u\n"
      "logsource: {product: test}\n"
      "detection:\n"
      "  sel: {A: 1}\n"
      "  condition: sel and nope\n");
  ASSERT_EQ(l.report.errors.size(), 2u);
  EXPECT_EQ(l.report.errors[0].line, 5u);
  EXPECT_EQ(l.report.errors[1].line, 12u);
}

TEST(SigmaLoader, EveryProblemOfARuleIsReported) {
  auto l = load(
      "title: t\n"
      "logsource: {product: test}\n"
      "detection:\n"
      "  sel:\n"
      "    A|bogus: 1\n"
      "    B|gt: ten\n"
      "    C: x\n"
      "  other:\n"
      "    D|hour: 3\n"
      "  condition: sel and other and missing\n");
  EXPECT_EQ(l.report.loaded, 0u);
  ASSERT_EQ(l.report.errors.size(), 3u);
  EXPECT_EQ(l.report.errors[0].reason, "unknown modifier");
  EXPECT_EQ(l.report.errors[0].line, 5u);
  EXPECT_EQ(l.report.errors[1].reason, "invalid value");
  EXPECT_EQ(l.report.errors[1].line, 6u);
  EXPECT_EQ(l.report.errors[2].reason, "invalid condition");
  EXPECT_EQ(l.report.errors[2].line, 10u);
  ASSERT_EQ(l.report.skipped.size(), 1u);
  EXPECT_EQ(l.report.skipped[0].reason, "unsupported modifier");
  EXPECT_EQ(l.report.skipped[0].line, 9u);
}

TEST(SigmaLoader, CorrelationMessage) {
  auto l = load(bad_rules[0].yaml);
  ASSERT_EQ(l.report.skipped.size(), 1u);
  EXPECT_EQ(l.report.skipped[0].message,
            "correlation: handled by the correlation engine (not yet)");
  EXPECT_EQ(l.report.skipped[0].path, "test.yml");
  EXPECT_EQ(l.report.skipped[0].rule_id, "x");
}

TEST(SigmaLoader, SelectionByLevelAndStatus) {
  const std::string yaml =
      "title: low\nid: r1\nlevel: low\nstatus: test\nlogsource: {product: test}\ndetection: {s: "
      "{A: 1}, condition: s}\n"
      "---\n"
      "title: high\nid: r2\nlevel: high\nstatus: stable\nlogsource: {product: test}\ndetection: "
      "{s: {A: 1}, condition: s}\n";
  SigmaOptions o;
  o.min_level = "medium";
  auto l = load(yaml, o);
  EXPECT_EQ(l.report.loaded, 1u);
  EXPECT_EQ(only_reason(l.report), "below minimum level");
  EXPECT_EQ(l.set->rule(0).id, "r2");
  SigmaOptions s;
  s.statuses = {"test"};
  auto l2 = load(yaml, s);
  EXPECT_EQ(l2.report.loaded, 1u);
  EXPECT_EQ(only_reason(l2.report), "status not selected");
  EXPECT_EQ(l2.set->rule(0).id, "r1");
}

TEST(SigmaLoader, ActionGlobalCollection) {
  const std::string yaml =
      "action: global\ntitle: shared\nlevel: high\nlogsource: {product: test}\n"
      "detection: {condition: sel}\n"
      "---\nid: g1\ndetection: {sel: {A: one}}\n"
      "---\nid: g2\ndetection: {sel: {A: two}}\n";
  auto l = load(yaml);
  ASSERT_EQ(l.report.loaded, 2u) << only_reason(l.report);
  EXPECT_EQ(l.set->rule(0).title, "shared");
  EXPECT_EQ(l.set->rule(1).level, "high");
  sluice::EventBatch batch;
  ASSERT_TRUE(sluice::rules::add_json_events(R"({"A":"two"})", batch).has_value());
  std::vector<sluice::Detection> d;
  l.set->make_scanner()->scan(batch, d);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(l.set->rule(d[0].rule_index).id, "g2");
}

TEST(SigmaLoader, GlobalFilterSuppressesNamedRule) {
  const std::string yaml =
      "title: r\nid: 6f3e2987-db24-4c78-a860-b4f4095a7095\nlogsource: {product: test}\n"
      "detection: {sel: {Image|endswith: '\\rar.exe'}, condition: sel}\n"
      "---\n"
      "title: Filter Administrator account\nlogsource: {product: test}\n"
      "filter:\n  rules: [6f3e2987-db24-4c78-a860-b4f4095a7095]\n"
      "  selection: {User|startswith: 'adm_'}\n  condition: selection\n";
  auto l = load(yaml);
  ASSERT_EQ(l.report.loaded, 1u) << only_reason(l.report);
  sluice::EventBatch batch;
  ASSERT_TRUE(
      sluice::rules::add_json_events(
          R"({"Image":"C:\\x\\rar.exe","User":"adm_bob"} {"Image":"C:\\x\\rar.exe","User":"eve"})",
          batch)
          .has_value());
  std::vector<sluice::Detection> d;
  l.set->make_scanner()->scan(batch, d);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].event_index, 1u);
}

TEST(SigmaScanner, MatchedListsFieldsAndValues) {
  const std::string yaml =
      "title: t\nid: m\nlevel: high\ntags: [attack.execution, attack.t1059.001]\n"
      "logsource: {product: test}\n"
      "detection: {sel: {Image|endswith: '\\powershell.exe', CommandLine|contains: '-enc'}, "
      "filter: {User: SYSTEM}, condition: sel and not filter}\n";
  auto l = load(yaml);
  ASSERT_EQ(l.report.loaded, 1u);
  EXPECT_EQ(l.set->rule(0).attack_techniques, std::vector<std::string>{"T1059.001"});
  sluice::EventBatch batch;
  ASSERT_TRUE(
      sluice::rules::add_json_events(
          R"({"Event":{"EventData":{"Image":"C:\\ps\\powershell.exe","CommandLine":"powershell -enc AA","User":"bob"}}})",
          batch)
          .has_value());
  std::vector<sluice::Detection> d;
  l.set->make_scanner()->scan(batch, d);
  ASSERT_EQ(d.size(), 1u);
  ASSERT_EQ(d[0].matched.size(), 2u);
  std::set<std::string> names;
  for (const auto& m : d[0].matched)
    names.insert(m.name + "=" + m.value);
  EXPECT_TRUE(names.count("Event.EventData.Image=C:\\ps\\powershell.exe"));
  EXPECT_TRUE(names.count("Event.EventData.CommandLine=powershell -enc AA"));
}

TEST(SigmaScanner, ScanDoesNotAllocatePerEvent) {
  if (!SLUICE_COUNT_ALLOCATIONS)
    GTEST_SKIP() << "allocation counting is off under AddressSanitizer";
  SLUICE_REQUIRE_DATA(sigma_rules, "sigma/rules/windows/process_creation");
  SigmaOptions o;
  o.paths = {sigma_rules.string()};
  LoadReport report;
  auto set = sluice::rules::load_sigma(o, report);
  ASSERT_TRUE(set.has_value());
  sluice::EventBatch batch;
  std::string events;
  for (int i = 0; i < 200; ++i)
    events +=
        R"({"Event":{"System":{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational"},"EventData":{"Image":"C:\\Windows\\System32\\notepad.exe","CommandLine":"notepad.exe C:\\file)" +
        std::to_string(i) + R"(.txt","ParentImage":"C:\\Windows\\explorer.exe","User":"bob"}}})";
  ASSERT_TRUE(sluice::rules::add_json_events(events, batch).has_value());
  auto scanner = (*set)->make_scanner();
  std::vector<sluice::Detection> d;
  d.reserve(1024);
  scanner->scan(batch, d);  // warm-up: buffers grow to the largest event once
  d.clear();
  const std::size_t before = allocations.load();
  scanner->scan(batch, d);
  const std::size_t used = allocations.load() - before;
  // Detections allocate their `matched` list; nothing else may.
  std::size_t matched_lists = 0;
  for (const auto& x : d)
    matched_lists += x.matched.empty() ? 0 : 1 + x.matched.size() * 2;
  EXPECT_LE(used, matched_lists) << d.size() << " detections";
}

}  // namespace

namespace {

TEST(SigmaLoader, SerializedDatabaseCacheGivesTheSameDetections) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("sluice-rules-cache-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const std::string yaml =
      "title: t\nid: c1\nlogsource: {product: test}\n"
      "detection: {sel: {A|contains: needle, B|re: 'x[0-9]+y'}, condition: sel}\n";
  sluice::EventBatch batch;
  ASSERT_TRUE(sluice::rules::add_json_events(
                  R"({"A":"a NEEDLE b","B":"x12y"} {"A":"none","B":"x12y"})", batch)
                  .has_value());
  std::vector<std::size_t> counts;
  ::setenv("SLUICE_RULES_CACHE", dir.c_str(), 1);
  for (int run = 0; run < 2; ++run) {  // the first run fills the cache, the second loads it
    auto l = load(yaml);
    ASSERT_EQ(l.report.loaded, 1u);
    std::vector<sluice::Detection> d;
    l.set->make_scanner()->scan(batch, d);
    counts.push_back(d.size());
  }
  ::unsetenv("SLUICE_RULES_CACHE");
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir))
    ++files;
  EXPECT_EQ(files, 2u);  // one literal and one regex database
  EXPECT_EQ(counts, (std::vector<std::size_t>{1, 1}));
  std::filesystem::remove_all(dir);
}

}  // namespace

namespace {

// A small in-process fuzz pass over the loader: real rules cut, flipped and spliced must load or
// be reported, never crash or hang. (The libFuzzer target lives with the other fuzzers once the
// fuzz build links the rules module.)
TEST(SigmaLoader, SurvivesMutatedRules) {
  SLUICE_REQUIRE_DATA(rules_dir, "sigma/rules/windows/process_creation");
  std::vector<std::string> texts;
  for (const auto& e : std::filesystem::directory_iterator(rules_dir)) {
    texts.push_back(sluice::test::read_file(e.path()));
    if (texts.size() == 40) break;
  }
  texts.push_back("detection: {condition: " + std::string(5000, '(') + "}\n");
  texts.push_back("title: t\nlogsource: {product: test}\ndetection: {s: {A: 1}, condition: '" +
                  std::string(3000, '(') + "s" + std::string(3000, ')') + "'}\n");
  texts.push_back(std::string(10000, '['));
  std::uint64_t seed = 42;
  auto next = [&] {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<std::size_t>(seed >> 33);
  };
  const char* inserts[] = {"|",        "*",     "?",    "\\",    "'",    "\"",  ":",
                           "\n",       "- ",    "{",    "}",     "null", "|re", "|base64offset",
                           "|windash", "|cidr", " of ", " not ", "(",    ")"};
  std::size_t loaded = 0, reported = 0;
  for (int i = 0; i < 600; ++i) {
    std::string t = texts[next() % texts.size()];
    const int edits = 1 + static_cast<int>(next() % 4);
    for (int k = 0; k < edits && !t.empty(); ++k) {
      const std::size_t at = next() % t.size();
      switch (next() % 3) {
        case 0:
          t.resize(at);
          break;
        case 1:
          t[at] = static_cast<char>(next() % 256);
          break;
        default:
          t.insert(at, inserts[next() % (sizeof inserts / sizeof *inserts)]);
          break;
      }
    }
    LoadReport report;
    SigmaOptions o;  // the shipped mapping: these are Windows rules
    auto r = sluice::rules::load_sigma_text(t, "mutated.yml", o, report);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    loaded += report.loaded;
    reported += report.skipped.size() + report.errors.size();
    if (report.loaded) {
      sluice::EventBatch batch;
      ASSERT_TRUE(sluice::rules::add_json_events(
                      R"({"Image":"C:\\x\\cmd.exe","CommandLine":"cmd /c whoami"})", batch)
                      .has_value());
      std::vector<sluice::Detection> d;
      (*r)->make_scanner()->scan(batch, d);
    }
  }
  EXPECT_GT(reported, 0u);
  std::printf("mutated rules: %zu loaded, %zu reported\n", loaded, reported);
}

}  // namespace

namespace {

TEST(RuleTestJson, BadJsonIsAnErrorNotACrash) {
  for (const char* bad : {R"({"a":"\uZZZZ"})", R"({"a":"\ud800\u0041"})", R"({"a":)", R"({"a" 1})",
                          R"([{"a":1})", R"(nope)", R"({"a":"x)"}) {
    sluice::EventBatch batch;
    EXPECT_FALSE(sluice::rules::add_json_events(bad, batch).has_value()) << bad;
  }
  sluice::EventBatch batch;
  auto n = sluice::rules::add_json_events(
      R"([{"a":{"b":"\u00e9\ud83d\ude00","c":[1,{"d":null}]}}, {"e":true}])", batch);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 2u);
  EXPECT_EQ(batch.events()[0].field("a.b"), "\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(batch.events()[0].field("a.c.0"), "1");
  EXPECT_EQ(batch.events()[0].fields.size(), 2u);  // null is left out
  EXPECT_EQ(batch.events()[1].field("e"), "true");
}

}  // namespace

namespace {

// One rule set, one scanner per thread (the pipeline's shape): every thread sees the same
// detections as a single-threaded scan.
TEST(SigmaScanner, ScannersOnManyThreadsAgree) {
  SLUICE_REQUIRE_DATA(regression, "sigma/regression_data");
  SigmaOptions o;
  o.paths = {(regression.parent_path() / "rules" / "windows").string()};
  LoadReport report;
  auto set = sluice::rules::load_sigma(o, report);
  ASSERT_TRUE(set.has_value());
  sluice::EventBatch batch(0, 1024);
  for (const auto& e : std::filesystem::recursive_directory_iterator(regression)) {
    if (e.path().extension() == ".json") {
      ASSERT_TRUE(
          sluice::rules::add_json_events(sluice::test::read_file(e.path()), batch).has_value());
    }
  }
  std::vector<sluice::Detection> reference;
  (*set)->make_scanner()->scan(batch, reference);
  ASSERT_FALSE(reference.empty());
  std::vector<std::size_t> counts(4, 0);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < counts.size(); ++t) {
    threads.emplace_back([&, t] {
      auto scanner = (*set)->make_scanner();
      for (int round = 0; round < 20; ++round) {
        std::vector<sluice::Detection> d;
        scanner->scan(batch, d);
        if (d.size() == reference.size()) ++counts[t];
      }
    });
  }
  for (auto& th : threads)
    th.join();
  for (auto c : counts)
    EXPECT_EQ(c, 20u);
}

}  // namespace
