// SPDX-License-Identifier: Apache-2.0
/// The token filter: the vectorised tokeniser against `for_each_token` (the definition in
/// tokens.hpp) on random texts of every length around its 64-byte chunks, the case fold of
/// `token_hash`, and membership.
#include "sluice/store/token_filter.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "sluice/store/tokens.hpp"

namespace sluice {
namespace {

std::string filter_bytes(const TokenFilterBuilder& b) {
  std::string out;
  b.write(out);
  return out;
}

TEST(TokenFilter, TokeniserMatchesTheReferenceDefinition) {
  std::mt19937_64 rng(42);
  // Token bytes, separators, and bytes >= 0x80 (separators too), weighted towards runs.
  static constexpr char chars[] = "aZ_09 .:=-/\t\x80\xff\0[]@`{";
  const std::string alphabet(chars, sizeof chars - 1);
  TokenFilterBuilder fast, reference;
  for (int round = 0; round < 3000; ++round) {
    const std::size_t len = round < 300 ? static_cast<std::size_t>(round) : rng() % 400;
    std::string text;
    for (std::size_t i = 0; i < len; ++i)
      text.push_back(rng() % 3 == 0 ? alphabet[rng() % alphabet.size()]
                                    : static_cast<char>('a' + rng() % 26));
    fast.clear();
    reference.clear();
    fast.add_tokens(text);
    for_each_token(text, [&](std::string_view t) { reference.add_hash(token_hash(t)); });
    ASSERT_EQ(fast.distinct(), reference.distinct()) << "length " << len;
    ASSERT_EQ(filter_bytes(fast), filter_bytes(reference)) << "length " << len;
  }
}

TEST(TokenFilter, HashFoldsCaseAndSeparatesTokens) {
  EXPECT_EQ(token_hash("Failed"), token_hash("fAILED"));
  EXPECT_EQ(token_hash("user_Name_1234567890"), token_hash("USER_name_1234567890"));
  EXPECT_NE(token_hash("failed"), token_hash("faile"));
  EXPECT_NE(token_hash("ab"), token_hash("ba"));
  EXPECT_NE(token_hash("a_"), token_hash("a"));
  EXPECT_NE(token_hash("abcdefgh"), token_hash("abcdefghi"));
  TokenFilterBuilder b;
  b.add_tokens("sshd[42]: Failed password for root from 10.0.0.1");
  std::string bytes;
  b.write(bytes);
  std::uint32_t buckets;
  std::memcpy(&buckets, bytes.data(), 4);
  const TokenFilter f(reinterpret_cast<const std::byte*>(bytes.data()), buckets);
  for (const char* t : {"sshd", "42", "FAILED", "password", "for", "root", "from", "10", "0", "1"})
    EXPECT_TRUE(f.may_contain(t)) << t;
  EXPECT_EQ(b.distinct(), 10u);  // 10 and 0 appear twice
  EXPECT_FALSE(TokenFilter().may_contain("sshd"));
}

}  // namespace
}  // namespace sluice
