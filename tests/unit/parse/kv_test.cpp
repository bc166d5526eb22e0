// SPDX-License-Identifier: Apache-2.0
/// key=value extraction: auditd, firewall, PAM and Android shapes, quoting, the per-event cap.
#include "sluice/parse/kv.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sluice {
namespace {

std::string_view value_of(const FieldScratch& f, std::string_view name) {
  for (const auto& field : f.view())
    if (field.name == name) return field.value;
  return "<absent>";
}

TEST(parse_kv, Auditd) {
  FieldScratch f;
  const std::string_view text =
      "type=SYSCALL msg=audit(1364481363.243:24287): arch=c000003e syscall=59 success=yes "
      "exit=0 a0=7fff ppid=3 pid=4 auid=0 comm=\"bash\" exe=\"/bin/bash\" key=(null)";
  EXPECT_EQ(extract_key_values(text, f), 13u);
  EXPECT_EQ(value_of(f, "type"), "SYSCALL");
  EXPECT_EQ(value_of(f, "msg"), "audit(1364481363.243:24287):");
  EXPECT_EQ(value_of(f, "arch"), "c000003e");
  EXPECT_EQ(value_of(f, "syscall"), "59");
  EXPECT_EQ(value_of(f, "comm"), "bash");
  EXPECT_EQ(value_of(f, "exe"), "/bin/bash");
  EXPECT_EQ(value_of(f, "key"), "(null)");
}

TEST(parse_kv, Firewall) {
  FieldScratch f;
  extract_key_values(
      "IN=eth0 OUT= MAC=00:11 SRC=10.0.0.1 DST=10.0.0.2 LEN=60 PROTO=TCP SPT=5 DPT=22 SYN", f);
  EXPECT_EQ(value_of(f, "OUT"), "");
  EXPECT_EQ(value_of(f, "SRC"), "10.0.0.1");
  EXPECT_EQ(value_of(f, "PROTO"), "TCP");
  EXPECT_EQ(value_of(f, "DPT"), "22");
  EXPECT_EQ(f.size(), 9u);
}

TEST(parse_kv, QuotingAndSeparators) {
  FieldScratch f;
  extract_key_values(
      "acquire lock=233570404, flags=0x1, tag=\"View Lock\", name='a b' q=\"x\\\"y\" a=b=c", f);
  EXPECT_EQ(value_of(f, "lock"), "233570404");
  EXPECT_EQ(value_of(f, "flags"), "0x1");
  EXPECT_EQ(value_of(f, "tag"), "View Lock");
  EXPECT_EQ(value_of(f, "name"), "a b");
  EXPECT_EQ(value_of(f, "q"), "x\\\"y");
  EXPECT_EQ(value_of(f, "a"), "b=c");
  EXPECT_EQ(f.size(), 6u);
}

TEST(parse_kv, NotKeys) {
  FieldScratch f;
  EXPECT_EQ(extract_key_values("a == b, x:y=z, =v, url=http://h/?p=1&q=2", f), 1u);
  EXPECT_EQ(value_of(f, "url"), "http://h/?p=1&q=2");
  f.clear();
  EXPECT_EQ(extract_key_values("unterminated=\"abc", f), 1u);
  EXPECT_EQ(value_of(f, "unterminated"), "abc");
  f.clear();
  EXPECT_EQ(extract_key_values("", f), 0u);
  EXPECT_EQ(extract_key_values("=", f), 0u);
  EXPECT_EQ(extract_key_values("k=", f), 1u);
  EXPECT_EQ(extract_key_values("k=\"", f), 1u);
  EXPECT_EQ(extract_key_values("k=\"\\", f), 1u);
}

TEST(parse_kv, CapPerEvent) {
  std::string text;
  for (int i = 0; i < 100; ++i) {
    // append() rather than operator+ chains: GCC 12 gives a false -Wrestrict on the latter.
    const std::string n = std::to_string(i);
    text.append("k").append(n).append("=").append(n).append(" ");
  }
  FieldScratch f;
  EXPECT_EQ(extract_key_values(text, f), max_key_value_fields);
  EXPECT_EQ(f.size(), max_key_value_fields);
  EXPECT_EQ(value_of(f, "k63"), "63");
  EXPECT_EQ(value_of(f, "k64"), "<absent>");
  EXPECT_GT(f.dropped(), 0u) << "pairs left over at the cap are reported";
}

TEST(parse_kv, ExactlyAtTheCapDropsNothing) {
  std::string text;
  for (std::size_t i = 0; i < max_key_value_fields; ++i) {
    const std::string n = std::to_string(i);
    text.append("k").append(n).append("=").append(n).append(" ");
  }
  text.append("trailing words without pairs");
  FieldScratch f;
  EXPECT_EQ(extract_key_values(text, f), max_key_value_fields);
  EXPECT_EQ(f.dropped(), 0u);
}

TEST(parse_kv, StopsWhenScratchFull) {
  FieldScratch f;
  for (std::size_t i = 0; i + 1 < FieldScratch::capacity; ++i)
    f.push("x", "y");
  EXPECT_EQ(extract_key_values("a=1 b=2 c=3", f), 1u);
  EXPECT_TRUE(f.full());
  EXPECT_GT(f.dropped(), 0u);
}

}  // namespace
}  // namespace sluice
