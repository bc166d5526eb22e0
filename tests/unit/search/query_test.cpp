// SPDX-License-Identifier: Apache-2.0
/// The query parser: what each construct parses to, and bad queries with the column of their
/// error (a table, like Hyperscan's bad_patterns.txt).
#include "sluice/search/query.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "sluice/search/matcher.hpp"

namespace sluice::search {
namespace {

/// A compact rendering of the tree, for table-driven expectations.
void render(const Expr& e, std::ostream& os) {
  switch (e.op) {
    case Expr::Op::all:
      os << "ALL";
      return;
    case Expr::Op::term: {
      const Term& t = e.term;
      if (t.field) os << t.field->name << ':';
      switch (t.kind) {
        case TermKind::text:
          os << '"' << t.value << '"';
          break;
        case TermKind::wildcard:
          os << "W<" << t.value << '>';
          break;
        case TermKind::regex:
          os << '/' << t.value << '/' << (t.caseless ? "i" : "");
          break;
        case TermKind::cidr:
          os << "CIDR<" << t.value << '>';
          break;
      }
      return;
    }
    case Expr::Op::not_:
      os << "NOT ";
      render(e.children[0], os);
      return;
    case Expr::Op::and_:
    case Expr::Op::or_: {
      os << '(';
      for (std::size_t i = 0; i < e.children.size(); ++i) {
        if (i) os << (e.op == Expr::Op::and_ ? " AND " : " OR ");
        render(e.children[i], os);
      }
      os << ')';
      return;
    }
  }
}

std::string tree(std::string_view q) {
  auto r = parse_query(q);
  if (!r.query) return "ERROR " + std::to_string(r.error.column) + ": " + r.error.message;
  std::ostringstream os;
  render(r.query->root, os);
  return os.str();
}

TEST(QueryParser, Trees) {
  const std::pair<const char*, const char*> cases[] = {
      {"failed", "\"failed\""},
      {"\"Failed password\"", "\"Failed password\""},
      {"Failed password", "(\"Failed\" AND \"password\")"},
      {"a AND b", "(\"a\" AND \"b\")"},
      {"a OR b c", "(\"a\" OR (\"b\" AND \"c\"))"},
      {"a b OR c", "((\"a\" AND \"b\") OR \"c\")"},
      {"NOT a b", "(NOT \"a\" AND \"b\")"},
      {"NOT (a OR b)", "NOT (\"a\" OR \"b\")"},
      {"(a OR b) AND NOT c", "((\"a\" OR \"b\") AND NOT \"c\")"},
      {"a or b", "(\"a\" AND \"or\" AND \"b\")"},
      {"\"AND\"", "\"AND\""},
      {"fail*", "W<fail*>"},
      {"pass?ord", "W<pass?ord>"},
      {"*", "ALL"},
      {"", "ALL"},
      {"/inv.lid user/", "/inv.lid user/"},
      {"/x\\/y/i", "/x/y/i"},
      {"host:web01", "host.name:\"web01\""},
      {"process.name:sshd", "process.name:\"sshd\""},
      {"app:\"sshd(pam_unix)\"", "process.name:\"sshd(pam_unix)\""},
      {"host:web*", "host.name:W<web*>"},
      {"source.ip:10.0.0.0/8", "source.ip:CIDR<10.0.0.0/8>"},
      {"source.ip:10.1.2.3", "source.ip:CIDR<10.1.2.3>"},
      {"source.ip:2001:db8::/32", "source.ip:CIDR<2001:db8::/32>"},
      {"user:root", "user:\"root\""},
      {"sluice.fields.user:root", "user:\"root\""},
      {"message:/err(or)?/i", "message:/err(or)?/i"},
      {"10:30", "\"10:30\""},
      {"\"say \\\"hi\\\"\"", "\"say \"hi\"\""},
      {"a|count", "\"a\""},
  };
  for (const auto& [q, want] : cases)
    EXPECT_EQ(tree(q), want) << q;
}

TEST(QueryParser, TimeBoundsAreHoisted) {
  auto r = parse_query("earliest=-1h sshd latest=2026-11-28T06:55:46Z failed | count");
  ASSERT_TRUE(r.query) << r.error.message;
  EXPECT_EQ(r.query->earliest, "-1h");
  EXPECT_EQ(r.query->latest, "2026-11-28T06:55:46Z");
  EXPECT_EQ(tree("earliest=-1h sshd latest=now failed"), "(\"sshd\" AND \"failed\")");
  EXPECT_EQ(tree("earliest=-1h sshd"), "\"sshd\"");
  r = parse_query("earliest=@1700000000");
  ASSERT_TRUE(r.query);
  EXPECT_EQ(r.query->root.op, Expr::Op::all);
  EXPECT_EQ(r.query->earliest, "@1700000000");
}

TEST(QueryParser, Pipes) {
  auto r = parse_query("sshd | count");
  ASSERT_TRUE(r.query);
  EXPECT_EQ(r.query->aggregation.kind, Aggregation::Kind::count);
  r = parse_query("| count by host");
  ASSERT_TRUE(r.query);
  EXPECT_EQ(r.query->root.op, Expr::Op::all);
  EXPECT_EQ(r.query->aggregation.kind, Aggregation::Kind::count_by);
  EXPECT_EQ(r.query->aggregation.field.id, FieldId::host);
  r = parse_query("x | top 5 process.name");
  ASSERT_TRUE(r.query);
  EXPECT_EQ(r.query->aggregation.kind, Aggregation::Kind::top);
  EXPECT_EQ(r.query->aggregation.top_n, 5u);
  EXPECT_EQ(r.query->aggregation.field.id, FieldId::app);
  r = parse_query("x | timechart span=15m");
  ASSERT_TRUE(r.query);
  EXPECT_EQ(r.query->aggregation.kind, Aggregation::Kind::timechart);
  EXPECT_EQ(r.query->aggregation.span_ns, 15LL * 60 * 1'000'000'000);
  r = parse_query("| count by template");
  ASSERT_TRUE(r.query);
  EXPECT_EQ(r.query->aggregation.field.id, FieldId::template_id);
}

TEST(QueryParser, BadQueriesPointAtTheirColumn) {
  struct Bad {
    const char* query;
    std::size_t column;
    const char* message_part;
  };
  const Bad cases[] = {
      {"a AND", 3, "AND needs an expression"},
      {"a OR", 3, "OR needs an expression"},
      {"OR a", 1, "needs an expression on its left"},
      {"NOT", 1, "NOT needs an expression"},
      {"(a OR b", 1, "never closed"},
      {"a)", 2, "unmatched ')'"},
      {"a ()", 3, "empty parentheses"},
      {"\"abc", 1, "unterminated phrase"},
      {"x \"\"", 3, "empty phrase"},
      {"x /ab", 3, "unterminated regex"},
      {"//", 1, "empty regex"},
      {"/ab/x", 5, "unknown regex flag"},
      {"host:", 5, "needs a value"},
      {"host: web", 5, "needs a value"},
      {"source.ip:10.0.0.0/33", 11, "not an address"},
      {"a | frobnicate", 5, "unknown aggregation"},
      {"a |", 4, "expected an aggregation"},
      {"a | top x host", 9, "positive count"},
      {"a | top 0 host", 9, "positive count"},
      {"a | count by", 13, "expected a field name"},
      {"a | timechart", 14, "span="},
      {"a | timechart span=1y", 20, "bad duration"},
      {"a | count | count", 11, "only one aggregation"},
      {"| count x", 9, "unexpected 'x'"},
      {"(earliest=-1h OR x)", 2, "top level"},
      {"NOT latest=now", 5, "top level"},
      {"x earliest=soon", 12, "bad time"},
  };
  for (const auto& c : cases) {
    auto r = parse_query(c.query);
    ASSERT_FALSE(r.query) << c.query;
    EXPECT_EQ(r.error.column, c.column) << c.query << ": " << r.error.message;
    EXPECT_NE(r.error.message.find(c.message_part), std::string::npos)
        << c.query << ": " << r.error.message;
  }
}

TEST(QueryParser, CompileErrorsPointAtTheRegex) {
  auto r = parse_query("sshd AND /a(b/");
  ASSERT_TRUE(r.query);
  QueryError err;
  auto cq = CompiledQuery::compile(*r.query, err);
  EXPECT_EQ(cq, nullptr);
  EXPECT_EQ(err.column, 10u);
  r = parse_query("x message:/(?<=a)b/");
  ASSERT_TRUE(r.query);
  cq = CompiledQuery::compile(*r.query, err);
  EXPECT_EQ(cq, nullptr);
  EXPECT_EQ(err.column, 3u);
}

TEST(QueryParser, ErrorFormatHasCaretUnderColumn) {
  QueryError e{9, "oops"};
  EXPECT_EQ(format_query_error("foo AND (bar", e),
            "error at column 9: oops\n  foo AND (bar\n          ^");
}

TEST(QueryTime, Rfc3339AndRelative) {
  const std::int64_t now = 1'700'000'000'000'000'000;
  EXPECT_EQ(parse_time_ns("1970-01-01T00:00:00Z", now), 0);
  EXPECT_EQ(parse_time_ns("2023-11-14T22:13:20Z", now), now);
  EXPECT_EQ(parse_time_ns("2023-11-14T23:13:20+01:00", now), now);
  EXPECT_EQ(parse_time_ns("2023-11-14 22:13:20.5Z", now), now + 500'000'000);
  EXPECT_EQ(parse_time_ns("2023-11-14", now), now - (22 * 3600 + 13 * 60 + 20) * 1'000'000'000LL);
  EXPECT_EQ(parse_time_ns("now", now), now);
  EXPECT_EQ(parse_time_ns("-1h", now), now - 3'600'000'000'000);
  EXPECT_EQ(parse_time_ns("-2d", now), now - 2 * 86'400'000'000'000);
  EXPECT_EQ(parse_time_ns("@1700000000", now), now);
  EXPECT_FALSE(parse_time_ns("yesterday", now));
  EXPECT_FALSE(parse_time_ns("2023-13-01", now));
  EXPECT_FALSE(parse_time_ns("2023-11-14T22:13:20X", now));
  EXPECT_FALSE(parse_time_ns("-1y", now));
  EXPECT_EQ(parse_duration_ns("90s"), 90'000'000'000);
  EXPECT_FALSE(parse_duration_ns("0s"));
  EXPECT_FALSE(parse_duration_ns("5"));
}

TEST(QueryCidr, V4V6AndMapped) {
  auto c = parse_cidr("10.0.0.0/8");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->contains("10.200.3.4"));
  EXPECT_FALSE(c->contains("11.0.0.1"));
  EXPECT_TRUE(c->contains("::ffff:10.1.1.1"));
  EXPECT_FALSE(c->contains("not an ip"));
  c = parse_cidr("192.168.1.0/23");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->contains("192.168.0.255"));
  EXPECT_FALSE(c->contains("192.168.2.0"));
  c = parse_cidr("2001:db8::/32");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->contains("2001:db8:1::5"));
  EXPECT_FALSE(c->contains("2001:db9::1"));
  EXPECT_FALSE(c->contains("10.0.0.1"));
  EXPECT_FALSE(parse_cidr("10.0.0.0/"));
  EXPECT_FALSE(parse_cidr("300.0.0.0/8"));
}

TEST(Matching, WordBoundedHelpers) {
  EXPECT_TRUE(contains_word("Failed password for x", "failed PASSWORD"));
  EXPECT_FALSE(contains_word("Failedpassword", "failed"));
  EXPECT_TRUE(contains_word("xfail fail", "fail"));
  EXPECT_FALSE(contains_word("fail_x", "fail"));
  EXPECT_TRUE(contains_word("a [preauth]", "[preauth]"));
  EXPECT_FALSE(contains_word("a[preauth]", "[preauth]"));
  EXPECT_TRUE(contains_wildcard_word("authentication failure;", "fail*"));
  EXPECT_FALSE(contains_wildcard_word("authentication failure;", "fail"));
  EXPECT_TRUE(contains_wildcard_word("ip 10.0.3.4 x", "10.0.*"));
  EXPECT_TRUE(contains_wildcard_word("password", "pass?ord"));
  EXPECT_FALSE(contains_wildcard_word("pass-ord", "pass?ord"));
  EXPECT_TRUE(glob_matches("web01.example", "WEB*"));
  EXPECT_TRUE(glob_matches("a.b", "a?b"));
  EXPECT_FALSE(glob_matches("web01", "web"));
  EXPECT_TRUE(glob_matches("", "*"));
}

TEST(Matching, TokenRequirementPrunes) {
  auto r = parse_query("\"Failed password\" OR fail* OR host:web01 OR NOT x");
  ASSERT_TRUE(r.query);
  QueryError err;
  auto cq = CompiledQuery::compile(*r.query, err);
  ASSERT_TRUE(cq);
  // NOT and wildcards never prune, so this OR never prunes.
  EXPECT_TRUE(cq->token_requirement().satisfied([](std::string_view) { return false; }));
  r = parse_query("\"Failed password\" 10.0.* host:web01");
  ASSERT_TRUE(r.query);
  cq = CompiledQuery::compile(*r.query, err);
  ASSERT_TRUE(cq);
  const auto& req = cq->token_requirement();
  const auto has = [](std::initializer_list<std::string_view> present) {
    return [present](std::string_view t) {
      for (auto p : present)
        if (p == t) return true;
      return false;
    };
  };
  EXPECT_TRUE(req.satisfied(has({"failed", "password", "10", "0", "web01"})));
  EXPECT_FALSE(req.satisfied(has({"failed", "10", "0", "web01"})));
  EXPECT_FALSE(req.satisfied(has({"failed", "password", "10", "web01"})));
  EXPECT_FALSE(req.satisfied(has({"failed", "password", "10", "0"})));
  ASSERT_EQ(cq->required_values().size(), 1u);
  EXPECT_EQ(cq->required_values()[0].value, "web01");
}

}  // namespace
}  // namespace sluice::search
