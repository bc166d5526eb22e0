// SPDX-License-Identifier: Apache-2.0
/// CEF parsing through `Parser`: header escapes, extension values with spaces and escapes, CEF
/// after a syslog header, short headers.
#include "sluice/parse/cef.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <string>

#include "harness.hpp"
#include "sluice/event/arena.hpp"
#include "sluice/parse/parser.hpp"
#include "sluice/parse/timestamp.hpp"
#include "tests_support.hpp"

namespace sluice {
namespace {

using test::Harness;

TEST(parse_cef, SpecExample) {
  Harness h;
  const Event e = h.parse(
      "CEF:0|Security|threatmanager|1.0|100|worm successfully stopped|10|src=10.0.0.1 "
      "dst=2.1.2.2 spt=1232");
  ASSERT_EQ(e.status, ParseStatus::parsed);
  EXPECT_EQ(e.format, InputFormat::cef);
  EXPECT_EQ(e.field("cef.version"), "0");
  EXPECT_EQ(e.field("cef.device_vendor"), "Security");
  EXPECT_EQ(e.field("cef.device_product"), "threatmanager");
  EXPECT_EQ(e.field("cef.device_version"), "1.0");
  EXPECT_EQ(e.field("cef.signature_id"), "100");
  EXPECT_EQ(e.field("cef.name"), "worm successfully stopped");
  EXPECT_EQ(e.field("cef.severity"), "10");
  EXPECT_EQ(e.field("src"), "10.0.0.1");
  EXPECT_EQ(e.field("dst"), "2.1.2.2");
  EXPECT_EQ(e.field("spt"), "1232");
  EXPECT_EQ(e.fields.size(), 10u);
  EXPECT_EQ(e.message, "worm successfully stopped");
  EXPECT_EQ(e.app, "threatmanager");
  EXPECT_NE(e.flags & event_flag_time_from_receive, 0);
}

TEST(parse_cef, HeaderEscapes) {
  Harness h;
  const Event e = h.parse(R"(CEF:0|security|threat\|manager|1.0|100|detected a \\ in packet|10|)");
  ASSERT_EQ(e.status, ParseStatus::parsed);
  EXPECT_EQ(e.field("cef.device_product"), "threat|manager");
  EXPECT_EQ(e.field("cef.name"), "detected a \\ in packet");
  EXPECT_EQ(e.fields.size(), 7u);
}

TEST(parse_cef, ExtensionValuesWithSpacesAndEscapes) {
  Harness h;
  const Event e = h.parse(
      R"(CEF:0|V|P|1|2|N|5|msg=Detected a threat. No action needed fname=C:\\tmp\\x.exe act=blocked a\=b cs1=line1\nline2 cs1Label=My Label rt=1516273673000)");
  ASSERT_EQ(e.status, ParseStatus::parsed);
  EXPECT_EQ(e.field("msg"), "Detected a threat. No action needed");
  EXPECT_EQ(e.field("fname"), "C:\\tmp\\x.exe");
  EXPECT_EQ(e.field("act"), "blocked a=b");
  EXPECT_EQ(e.field("cs1"), "line1\nline2");
  EXPECT_EQ(e.field("cs1Label"), "My Label");
  EXPECT_EQ(e.message, "Detected a threat. No action needed");
  EXPECT_EQ(e.event_time_ns, 1516273673000LL * 1'000'000);
  EXPECT_EQ(e.flags & event_flag_time_from_receive, 0);
}

TEST(parse_cef, AfterSyslogHeader) {
  Harness h;
  const Event e = h.parse(
      "<13>Jan 18 11:07:53 host CEF:0|Vendor|Product|1.2|sig|Name here|3|src=10.1.1.1 suser=bob");
  ASSERT_EQ(e.status, ParseStatus::parsed);
  EXPECT_EQ(e.format, InputFormat::cef);
  EXPECT_EQ(e.host, "host");
  EXPECT_EQ(e.severity, 5);
  EXPECT_EQ(e.app, "Product");
  EXPECT_EQ(e.field("suser"), "bob");
  EXPECT_EQ(e.field("cef.name"), "Name here");
  EXPECT_EQ(e.flags & event_flag_time_from_receive, 0);

  const Event f = h.parse("<13>1 2026-01-01T00:00:00Z host app - - - CEF:0|V|P|1|2|N|5|k=v");
  ASSERT_EQ(f.status, ParseStatus::parsed);
  EXPECT_EQ(f.format, InputFormat::cef);
  EXPECT_EQ(f.app, "app");
  EXPECT_EQ(f.field("k"), "v");
}

TEST(parse_cef, ExplicitFormat) {
  Harness h(ParseFormat::cef);
  EXPECT_EQ(h.parse("<13>Jan 18 11:07:53 host CEF:0|V|P|1|2|N|5|").status, ParseStatus::parsed);
  EXPECT_EQ(h.parse("CEF:0|V|P|1|2|N|5").status, ParseStatus::parsed);
  const Event e = h.parse("<13>Jan 18 11:07:53 host not cef");
  EXPECT_EQ(e.status, ParseStatus::unparsed);
  EXPECT_EQ(e.reason, UnparsedReason::bad_cef);
  EXPECT_EQ(e.format, InputFormat::cef);
}

TEST(parse_cef, TooFewHeaderFields) {
  Harness h;
  for (const char* line : {"CEF:0|V|P|1|2|N", "CEF:", "CEF:0|V|P|1|2\\|N|5",
                           "<13>Jan 18 11:07:53 host CEF:0|only|three"}) {
    const Event e = h.parse(line);
    EXPECT_EQ(e.status, ParseStatus::unparsed) << line;
    EXPECT_EQ(e.reason, UnparsedReason::bad_cef) << line;
    EXPECT_TRUE(e.fields.empty());
  }
}

TEST(parse_cef, MalformedExtensionKeepsWhatItCan) {
  Harness h;
  const Event e = h.parse("CEF:0|V|P|1|2|N|5|src=1.2.3.4 garbage without equals");
  ASSERT_EQ(e.status, ParseStatus::parsed);
  EXPECT_EQ(e.field("src"), "1.2.3.4 garbage without equals");
  const Event f = h.parse("CEF:0|V|P|1|2|N|5|no pairs here");
  ASSERT_EQ(f.status, ParseStatus::parsed);
  EXPECT_EQ(f.fields.size(), 7u);
}

}  // namespace
}  // namespace sluice
