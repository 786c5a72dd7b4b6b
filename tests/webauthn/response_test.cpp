// SPDX-License-Identifier: Apache-2.0
#include "webauthn/response.hpp"

#include <gtest/gtest.h>

#include "tests/webauthn/soft_authenticator.hpp"
#include "webauthn/reason.hpp"

namespace latchkey::webauthn {
namespace {

using testing::reason;

using testing::authentication_json;
using testing::registration_json;

TEST(Response, ParsesARegistration)
{
    auto r = parse_registration_response(registration_json("id\x01", "{}", "attobj"));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->id, "id\x01");
    EXPECT_EQ(r->client_data_json, "{}");
    EXPECT_EQ(r->attestation_object, "attobj");
    EXPECT_EQ(r->transports, std::vector<std::string>{"usb"});
    EXPECT_EQ(r->authenticator_attachment, "cross-platform");
}

TEST(Response, ParsesAnAuthenticationWithOrWithoutUserHandle)
{
    auto r = parse_authentication_response(authentication_json("id", "{}", "ad", "sig", "user"));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->authenticator_data, "ad");
    EXPECT_EQ(r->signature, "sig");
    EXPECT_EQ(r->user_handle, "user");
    r = parse_authentication_response(authentication_json("id", "{}", "ad", "sig", std::nullopt));
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->user_handle);
    r = parse_authentication_response(
        R"({"id":"aWQ","rawId":"aWQ","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"YWQ","signature":"c2ln","userHandle":null}})");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_FALSE(r->user_handle);
}

TEST(Response, AcceptsPaddingAndTheStandardAlphabet)
{
    auto r = parse_authentication_response(
        R"({"id":"aWQ=","rawId":"aWQ","response":{"clientDataJSON":"e30=","authenticatorData":"+/8=","signature":"c2ln"}})");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->authenticator_data, "\xfb\xff");
}

TEST(Response, RefusesWhatDoesNotHoldTogether)
{
    EXPECT_EQ(
        reason(parse_registration_response(
            R"({"id":"aWQ","rawId":"aWR4","response":{"clientDataJSON":"e30","attestationObject":"YQ"}})")),
        Reason::malformed_response);
    EXPECT_EQ(
        reason(parse_registration_response(
            R"({"rawId":"aWQ","type":"password","response":{"clientDataJSON":"e30","attestationObject":"YQ"}})")),
        Reason::malformed_response);
    EXPECT_EQ(reason(parse_registration_response(
                  R"({"rawId":"aWQ","response":{"clientDataJSON":"e30"}})")),
              Reason::malformed_response);
    EXPECT_EQ(
        reason(parse_registration_response(
            R"({"rawId":"aWQ","response":{"clientDataJSON":"e30","attestationObject":"!!"}})")),
        Reason::malformed_response);
    EXPECT_EQ(
        reason(parse_registration_response(
            R"({"rawId":"aWQ","response":{"clientDataJSON":"e30","attestationObject":"YQ","transports":"usb"}})")),
        Reason::malformed_response);
    EXPECT_EQ(reason(parse_registration_response(R"({"rawId":"aWQ"})")),
              Reason::malformed_response);
    EXPECT_EQ(
        reason(parse_authentication_response(
            R"({"rawId":"aWQ","response":{"clientDataJSON":"e30","authenticatorData":"YQ"}})")),
        Reason::malformed_response);
    EXPECT_EQ(
        reason(parse_authentication_response(
            R"({"rawId":"","response":{"clientDataJSON":"e30","authenticatorData":"YQ","signature":"YQ"}})")),
        Reason::malformed_response);
    EXPECT_EQ(reason(parse_authentication_response("[1]")), Reason::malformed_json);
    EXPECT_EQ(reason(parse_authentication_response("{")), Reason::malformed_json);
}

TEST(Response, IsBoundedInSize)
{
    EXPECT_EQ(reason(parse_registration_response(
                  registration_json("id", std::string(max_response_json_size, 'x'), "a"))),
              Reason::too_large);
}

} // namespace
} // namespace latchkey::webauthn
