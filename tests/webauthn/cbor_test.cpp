// SPDX-License-Identifier: Apache-2.0
#include "webauthn/cbor.hpp"

#include <gtest/gtest.h>

#include "tests/webauthn/soft_authenticator.hpp"
#include "webauthn/reason.hpp"

namespace latchkey::webauthn {
namespace {

using testing::reason;

using testing::Cbor;
using namespace std::string_literals;

TEST(Cbor, DecodesAMapAndFindsItsMembers)
{
    const auto bytes = Cbor::map({{1, 2}, {"fmt", "none"}, {-2, Cbor::bytes("xy")}}).encode();
    auto item = decode_cbor(bytes, CborLimits{});
    ASSERT_TRUE(item) << item.error().message;
    EXPECT_EQ(as_int(map_find(item->get(), 1)), 2);
    EXPECT_EQ(as_text(map_find(item->get(), "fmt")), "none");
    EXPECT_EQ(as_bytes(map_find(item->get(), -2)), "xy");
    EXPECT_EQ(map_find(item->get(), 7), nullptr);
    EXPECT_TRUE(has_unique_keys(**item));
}

TEST(Cbor, RefusesTrailingBytesUnlessTheCallerAsksWhereTheItemEnds)
{
    const auto bytes = Cbor::map({{1, 2}}).encode() + "\x01"s;
    EXPECT_EQ(reason(decode_cbor(bytes, CborLimits{})), Reason::malformed_cbor);
    std::size_t consumed = 0;
    ASSERT_TRUE(decode_cbor(bytes, CborLimits{}, &consumed));
    EXPECT_EQ(consumed, bytes.size() - 1);
}

TEST(Cbor, RefusesTruncatedInput)
{
    const auto bytes = Cbor::map({{1, Cbor::bytes("abcdef")}}).encode();
    for (std::size_t n = 0; n < bytes.size(); ++n)
        EXPECT_EQ(reason(decode_cbor(bytes.substr(0, n), CborLimits{})), Reason::malformed_cbor)
            << n;
}

TEST(Cbor, RefusesADeclaredLengthBeyondTheInputBeforeAllocatingForIt)
{
    // An array and a map claiming 2^32-1 members in five bytes, a byte string claiming 4 GiB.
    EXPECT_EQ(reason(decode_cbor("\x9a\xff\xff\xff\xff"s, CborLimits{})), Reason::malformed_cbor);
    EXPECT_EQ(reason(decode_cbor("\xba\xff\xff\xff\xff"s, CborLimits{})), Reason::malformed_cbor);
    EXPECT_EQ(reason(decode_cbor("\x5a\xff\xff\xff\xff"s, CborLimits{})), Reason::malformed_cbor);
    EXPECT_EQ(reason(decode_cbor("\x9b\xff\xff\xff\xff\xff\xff\xff\xff"s, CborLimits{})),
              Reason::malformed_cbor);
}

TEST(Cbor, RefusesIndefiniteLengthsAndTags)
{
    EXPECT_EQ(reason(decode_cbor("\x9f\x01\xff"s, CborLimits{})), Reason::malformed_cbor);
    EXPECT_EQ(reason(decode_cbor("\xbf\x01\x02\xff"s, CborLimits{})), Reason::malformed_cbor);
    EXPECT_EQ(reason(decode_cbor("\x5f\x41\x00\xff"s, CborLimits{})), Reason::malformed_cbor);
    EXPECT_EQ(reason(decode_cbor("\xc2\x41\x01"s, CborLimits{})), Reason::malformed_cbor);
}

TEST(Cbor, EnforcesDepthItemAndStringLimits)
{
    CborLimits limits;
    limits.max_depth = 3;
    EXPECT_TRUE(decode_cbor(Cbor::array({Cbor::array({Cbor::array({1})})}).encode(), limits));
    EXPECT_EQ(reason(decode_cbor(
                  Cbor::array({Cbor::array({Cbor::array({Cbor::array({1})})})}).encode(), limits)),
              Reason::too_large);
    // 10,000 nested arrays: refused at the limit, not by running out of stack.
    EXPECT_EQ(reason(decode_cbor(std::string(10000, '\x81') + "\x01", CborLimits{})),
              Reason::too_large);

    limits = CborLimits{};
    limits.max_items = 4;
    EXPECT_TRUE(decode_cbor(Cbor::array({1, 2, 3}).encode(), limits));
    EXPECT_EQ(reason(decode_cbor(Cbor::array({1, 2, 3, 4}).encode(), limits)), Reason::too_large);

    limits = CborLimits{};
    limits.max_string = 8;
    EXPECT_TRUE(decode_cbor(Cbor::bytes("12345678").encode(), limits));
    EXPECT_EQ(reason(decode_cbor(Cbor::bytes("123456789").encode(), limits)), Reason::too_large);

    limits = CborLimits{};
    limits.max_size = 4;
    EXPECT_EQ(reason(decode_cbor(Cbor::bytes("1234").encode(), limits)), Reason::too_large);
}

TEST(Cbor, SpotsRepeatedKeysWhateverTheirEncoding)
{
    EXPECT_FALSE(has_unique_keys(*Cbor::map({{1, 2}, {1, 3}}).get()));
    EXPECT_FALSE(has_unique_keys(*Cbor::map({{"a", 2}, {"a", 3}}).get()));
    EXPECT_TRUE(has_unique_keys(*Cbor::map({{1, 2}, {-2, 3}, {"1", 4}}).get()));
    // 1 written in one byte and in two (0x18 0x01) is the same key.
    auto item = decode_cbor("\xa2\x01\x00\x18\x01\x00"s, CborLimits{});
    ASSERT_TRUE(item);
    EXPECT_FALSE(has_unique_keys(**item));
}

TEST(Cbor, ReencodesAMapInCanonicalKeyOrder)
{
    const auto m = Cbor::map({{"x5c", 1}, {"sig", 2}, {"alg", 3}, {"ab", 4}});
    auto encoded = encode_canonical_map(*m.get());
    ASSERT_TRUE(encoded);
    EXPECT_EQ(*encoded, Cbor::map({{"ab", 4}, {"alg", 3}, {"sig", 2}, {"x5c", 1}}).encode());
}

TEST(Cbor, ReadsIntegersAtTheirLimits)
{
    auto big = decode_cbor("\x1b\x7f\xff\xff\xff\xff\xff\xff\xff"s, CborLimits{});
    ASSERT_TRUE(big);
    EXPECT_EQ(as_int(big->get()), INT64_MAX);
    auto too_big = decode_cbor("\x1b\x80\x00\x00\x00\x00\x00\x00\x00"s, CborLimits{});
    ASSERT_TRUE(too_big);
    EXPECT_EQ(as_int(too_big->get()), std::nullopt);
    auto most_negative = decode_cbor("\x3b\x7f\xff\xff\xff\xff\xff\xff\xff"s, CborLimits{});
    ASSERT_TRUE(most_negative);
    EXPECT_EQ(as_int(most_negative->get()), INT64_MIN);
    EXPECT_EQ(as_int(Cbor("text").get()), std::nullopt);
}

} // namespace
} // namespace latchkey::webauthn
