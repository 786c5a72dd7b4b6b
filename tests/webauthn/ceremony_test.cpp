// SPDX-License-Identifier: Apache-2.0
#include "webauthn/ceremony.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include "core/random.hpp"

namespace latchkey::webauthn {
namespace {

namespace json = boost::json;

RelyingParty rp()
{
    return {"example.org", "Example", {"https://example.org"}, false, {}};
}

std::string decoded(const json::value& v)
{
    return core::base64_decode(v.as_string()).value_or("");
}

TEST(Ceremony, RegistrationOptionsCarryWhatTheBrowserNeeds)
{
    RegistrationRequest request;
    request.user_name = "alice";
    request.exclude = {{"cred-1", {"usb", "nfc"}}};
    const auto now = core::from_unix(1'800'000'000);
    const auto options = begin_registration(rp(), request, now);
    const auto o = json::parse(options.json).as_object();

    EXPECT_EQ(o.at("rp").at("id"), "example.org");
    EXPECT_EQ(o.at("rp").at("name"), "Example");
    EXPECT_EQ(decoded(o.at("challenge")).size(), challenge_size);
    EXPECT_EQ(decoded(o.at("challenge")), options.pending.challenge);
    // The user handle is opaque and random: never the logon name.
    EXPECT_EQ(decoded(o.at("user").at("id")).size(), user_handle_size);
    EXPECT_EQ(decoded(o.at("user").at("id")), options.pending.user_handle);
    EXPECT_EQ(o.at("user").at("name"), "alice");
    EXPECT_EQ(o.at("user").at("displayName"), "alice");
    const auto& params = o.at("pubKeyCredParams").as_array();
    ASSERT_EQ(params.size(), 3U);
    EXPECT_EQ(params[0].at("alg"), -7);
    EXPECT_EQ(params[1].at("alg"), -8);
    EXPECT_EQ(params[2].at("alg"), -257);
    EXPECT_EQ(params[0].at("type"), "public-key");
    EXPECT_EQ(decoded(o.at("excludeCredentials").at(0).at("id")), "cred-1");
    EXPECT_EQ(o.at("excludeCredentials").at(0).at("transports").at(1), "nfc");
    EXPECT_EQ(o.at("authenticatorSelection").at("residentKey"), "preferred");
    EXPECT_EQ(o.at("authenticatorSelection").at("requireResidentKey"), false);
    EXPECT_EQ(o.at("authenticatorSelection").at("userVerification"), "preferred");
    EXPECT_EQ(o.at("attestation"), "none");
    EXPECT_EQ(o.at("timeout"), 300000);

    EXPECT_EQ(options.pending.kind, PendingCeremony::Kind::registration);
    EXPECT_EQ(options.pending.rp_ids, std::vector<std::string>{"example.org"});
    EXPECT_EQ(options.pending.origins, std::vector<std::string>{"https://example.org"});
    EXPECT_EQ(options.pending.expires_at, now + std::chrono::seconds(300));
    EXPECT_EQ(options.pending.algorithms.size(), 3U);
}

TEST(Ceremony, EveryCeremonyHasItsOwnChallengeAndHandle)
{
    RegistrationRequest request;
    request.user_name = "alice";
    const auto a = begin_registration(rp(), request, core::from_unix(0));
    const auto b = begin_registration(rp(), request, core::from_unix(0));
    EXPECT_NE(a.pending.challenge, b.pending.challenge);
    EXPECT_NE(a.pending.user_handle, b.pending.user_handle);
    request.user_handle = "existing-handle";
    EXPECT_EQ(begin_registration(rp(), request, core::from_unix(0)).pending.user_handle,
              "existing-handle");
}

TEST(Ceremony, AuthenticationOptionsNameTheAllowedCredentials)
{
    AuthenticationRequest request;
    request.allow = {{"cred-1", {}}, {"cred-2", {"internal"}}};
    request.user_handle = "handle";
    request.user_verification = UserVerification::required;
    request.timeout = std::chrono::seconds(60);
    const auto options = begin_authentication(rp(), request, core::from_unix(100));
    const auto o = json::parse(options.json).as_object();
    EXPECT_EQ(o.at("rpId"), "example.org");
    EXPECT_EQ(o.at("userVerification"), "required");
    EXPECT_EQ(o.at("timeout"), 60000);
    EXPECT_EQ(o.at("allowCredentials").as_array().size(), 2U);
    EXPECT_FALSE(o.at("allowCredentials").at(0).as_object().contains("transports"));
    EXPECT_EQ(decoded(o.at("challenge")), options.pending.challenge);
    EXPECT_EQ(options.pending.kind, PendingCeremony::Kind::authentication);
    EXPECT_EQ(options.pending.allowed_credentials, (std::vector<std::string>{"cred-1", "cred-2"}));
    EXPECT_EQ(options.pending.user_handle, "handle");
    EXPECT_EQ(options.pending.user_verification, UserVerification::required);
    EXPECT_EQ(options.pending.expires_at, core::from_unix(160));
}

TEST(Ceremony, DiscoverableSignInHasAnEmptyAllowList)
{
    const auto options = begin_authentication(rp(), AuthenticationRequest{}, core::from_unix(0));
    const auto o = json::parse(options.json).as_object();
    EXPECT_TRUE(o.at("allowCredentials").as_array().empty());
    EXPECT_TRUE(options.pending.user_handle.empty());
}

TEST(Ceremony, APendingCeremonyComesBackFromItsJsonWhole)
{
    RegistrationRequest request;
    request.user_name = "alice";
    request.user_verification = UserVerification::required;
    auto reg = begin_registration({"example.org",
                                   "Example",
                                   {"https://a.example.org", "https://b.example.org"},
                                   true,
                                   {"https://top.example.org"}},
                                  request, core::from_unix(100));
    reg.pending.allowed_credentials = {std::string("\0\xff\x01", 3)};
    reg.pending.require_user_presence = false;
    // Through text, as it is kept between two requests.
    const auto text = json::serialize(to_json(reg.pending));
    const auto back = pending_from_json(json::parse(text));
    ASSERT_TRUE(back) << back.error().message;
    const PendingCeremony& p = *back;
    EXPECT_EQ(p.kind, PendingCeremony::Kind::registration);
    EXPECT_EQ(p.challenge, reg.pending.challenge);
    EXPECT_EQ(p.rp_ids, reg.pending.rp_ids);
    EXPECT_EQ(p.origins, reg.pending.origins);
    EXPECT_TRUE(p.allow_cross_origin);
    EXPECT_EQ(p.top_origins, reg.pending.top_origins);
    EXPECT_EQ(p.user_verification, UserVerification::required);
    EXPECT_FALSE(p.require_user_presence);
    EXPECT_EQ(p.expires_at, reg.pending.expires_at);
    EXPECT_EQ(p.user_handle, reg.pending.user_handle);
    EXPECT_EQ(p.allowed_credentials, reg.pending.allowed_credentials);
    EXPECT_EQ(p.algorithms, reg.pending.algorithms);

    const auto auth = begin_authentication(rp(), AuthenticationRequest{}, core::from_unix(0));
    const auto again = pending_from_json(to_json(auth.pending));
    ASSERT_TRUE(again);
    EXPECT_EQ(again->kind, PendingCeremony::Kind::authentication);
    EXPECT_EQ(again->challenge, auth.pending.challenge);
}

TEST(Ceremony, ASavedCeremonyThatIsNotWholeIsRefused)
{
    const auto whole = to_json(begin_authentication(rp(), {}, core::from_unix(0)).pending);
    EXPECT_FALSE(pending_from_json(json::value(42)));
    for (const auto* key : {"kind", "challenge", "rp_ids", "origins", "user_verification",
                            "expires_at", "user_handle", "algorithms", "allow_cross_origin"}) {
        auto o = whole;
        o.erase(key);
        const auto r = pending_from_json(o);
        ASSERT_FALSE(r) << key;
        EXPECT_TRUE(r.error().is(core::Errc::protocol_malformed));
    }
    auto o = whole;
    o["challenge"] = "not base64 !";
    EXPECT_FALSE(pending_from_json(o));
    o = whole;
    o["kind"] = "something";
    EXPECT_FALSE(pending_from_json(o));
}

} // namespace
} // namespace latchkey::webauthn
