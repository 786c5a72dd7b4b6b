// SPDX-License-Identifier: Apache-2.0
#include "webauthn/client_data.hpp"

#include <gtest/gtest.h>

#include "tests/webauthn/soft_authenticator.hpp"
#include "webauthn/reason.hpp"

namespace latchkey::webauthn {
namespace {

using testing::reason;

using testing::make_client_data;

TEST(ClientData, ParsesWhatABrowserSends)
{
    auto c = parse_client_data(make_client_data(
        "webauthn.get", "challenge-bytes", "https://example.org",
        R"(,"crossOrigin":true,"topOrigin":"https://top.example","other":[1,{"a":2}])"));
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->type, "webauthn.get");
    EXPECT_EQ(c->challenge, "challenge-bytes");
    EXPECT_EQ(c->origin, "https://example.org");
    EXPECT_TRUE(c->cross_origin);
    EXPECT_EQ(c->top_origin, "https://top.example");
}

TEST(ClientData, TreatsAbsentOrNullCrossOriginAsSameOrigin)
{
    auto c = parse_client_data(make_client_data("webauthn.create", "x", "https://a"));
    ASSERT_TRUE(c);
    EXPECT_FALSE(c->cross_origin);
    c = parse_client_data(
        make_client_data("webauthn.create", "x", "https://a", R"(,"crossOrigin":null)"));
    ASSERT_TRUE(c);
    EXPECT_FALSE(c->cross_origin);
}

TEST(ClientData, RefusesMissingOrMistypedMembers)
{
    EXPECT_EQ(reason(parse_client_data(R"({"challenge":"eA","origin":"https://a"})")),
              Reason::malformed_client_data);
    EXPECT_EQ(reason(parse_client_data(R"({"type":"webauthn.get","origin":"https://a"})")),
              Reason::malformed_client_data);
    EXPECT_EQ(reason(parse_client_data(R"({"type":"webauthn.get","challenge":"eA"})")),
              Reason::malformed_client_data);
    EXPECT_EQ(reason(parse_client_data(R"({"type":1,"challenge":"eA","origin":"https://a"})")),
              Reason::malformed_client_data);
    EXPECT_EQ(reason(parse_client_data(
                  make_client_data("webauthn.get", "x", "https://a", R"(,"crossOrigin":"true")"))),
              Reason::malformed_client_data);
    EXPECT_EQ(reason(parse_client_data(
                  make_client_data("webauthn.get", "x", "https://a", R"(,"topOrigin":7)"))),
              Reason::malformed_client_data);
    EXPECT_EQ(reason(parse_client_data("[]")), Reason::malformed_client_data);
    EXPECT_EQ(reason(parse_client_data("{")), Reason::malformed_client_data);
    EXPECT_EQ(reason(parse_client_data("")), Reason::malformed_client_data);
}

TEST(ClientData, WantsTheChallengeInCanonicalUnpaddedBase64url)
{
    const auto with = [](std::string_view challenge) {
        return parse_client_data(R"({"type":"webauthn.get","challenge":")" +
                                 std::string(challenge) + R"(","origin":"https://a"})");
    };
    EXPECT_TRUE(with("YWJj"));
    EXPECT_TRUE(with("YWI"));
    EXPECT_EQ(reason(with("YWI=")), Reason::malformed_client_data); // padded
    EXPECT_EQ(reason(with("YW+/")), Reason::malformed_client_data); // standard alphabet
    EXPECT_EQ(reason(with("YWJ")), Reason::malformed_client_data);  // non-zero spare bits
    EXPECT_EQ(reason(with("")), Reason::malformed_client_data);
    EXPECT_EQ(reason(with("Y")), Reason::malformed_client_data);
}

TEST(ClientData, RefusesTokenBindingItCannotHonour)
{
    const auto with = [](std::string_view tb) {
        return parse_client_data(make_client_data("webauthn.get", "x", "https://a",
                                                  ",\"tokenBinding\":" + std::string(tb)));
    };
    EXPECT_TRUE(with(R"({"status":"supported"})"));
    EXPECT_EQ(reason(with(R"({"status":"present","id":"abc"})")),
              Reason::token_binding_unsupported);
    EXPECT_EQ(reason(with(R"({"status":"not-supported"})")), Reason::malformed_client_data);
    EXPECT_EQ(reason(with(R"({})")), Reason::malformed_client_data);
    EXPECT_EQ(reason(with(R"("present")")), Reason::malformed_client_data);
}

TEST(ClientData, IsBoundedInSizeAndDepth)
{
    EXPECT_EQ(reason(parse_client_data(
                  make_client_data("webauthn.get", "x", "https://a",
                                   ",\"pad\":\"" + std::string(max_client_data_size, 'a') + "\""))),
              Reason::too_large);
    EXPECT_EQ(reason(parse_client_data(
                  make_client_data("webauthn.get", "x", "https://a",
                                   ",\"deep\":" + std::string(100, '[') + std::string(100, ']')))),
              Reason::malformed_client_data);
}

} // namespace
} // namespace latchkey::webauthn
