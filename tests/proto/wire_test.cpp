// SPDX-License-Identifier: Apache-2.0
// Unit tests of proto/: message round-trips, golden frames, and hostile frames.
#include "proto/wire.hpp"

#include <gtest/gtest.h>

#include "core/random.hpp"
#include "proto/codec.hpp"
#include "proto/security_key.hpp"

namespace latchkey::proto {
namespace {

template <class T>
T round_trip(const T& in)
{
    const auto text = encode(Request{T(in)});
    auto out = decode_request(text);
    EXPECT_TRUE(out) << text;
    return std::get<T>(*std::move(out));
}

TEST(Wire, RoundTripsEveryRequestType)
{
    // Each alternative default-constructed must survive encode + decode with its type.
    const auto check = [](auto tag) {
        using T = decltype(tag);
        Request r{T{}};
        auto back = decode_request(encode(r));
        ASSERT_TRUE(back) << T::type << ": " << back.error().message;
        EXPECT_EQ(type_name(*back), T::type);
    };
    std::apply([&](auto... t) { (check(t), ...); },
               std::tuple<Hello, DirectoryInit, DirectoryShow, AccountCreate, AccountList,
                          AccountShow, AccountAlias, UserCreate, UserList, UserShow, UserDelete,
                          UserSetLogon, PolicyShow, PolicySet, SettingsShow, SettingsSet>{});
}

TEST(Wire, RoundTripsEveryResponseType)
{
    const auto check = [](auto tag) {
        using T = decltype(tag);
        Response r{T{}};
        auto back = decode_response(encode(r));
        ASSERT_TRUE(back) << T::type << ": " << back.error().message;
        EXPECT_EQ(type_name(*back), T::type);
    };
    std::apply([&](auto... t) { (check(t), ...); },
               std::tuple<HelloReply, Failure, Done, DirectoryReply, AccountReply,
                          AccountListReply, UserListReply, PolicyReply, SettingsReply>{});
}

TEST(Wire, KeepsFieldValues)
{
    UserCreate in;
    in.ref = {"alice@web.example.internal", std::string("web")};
    in.display_name = "Alice Liddell";
    in.console_logon = false;
    const auto out = round_trip(in);
    EXPECT_EQ(out.ref.user, "alice@web.example.internal");
    EXPECT_EQ(out.ref.account, "web");
    EXPECT_EQ(out.display_name, "Alice Liddell");
    EXPECT_FALSE(out.console_logon);
}

TEST(Wire, EncodesTheGoldenHello)
{
    // The handshake's bytes are the contract with every older and newer peer.
    Hello h;
    h.client = "latchkeyctl";
    const auto f = frame(encode(Request{h}), max_request_size);
    ASSERT_TRUE(f);
    const std::string json = R"({"version":1,"client":"latchkeyctl","type":"hello"})";
    EXPECT_EQ(f->substr(4), json);
    EXPECT_EQ(f->substr(0, 4), std::string("\0\0\0", 3) + char(json.size()));
}

TEST(Wire, DecodesAGoldenFrameWrittenByHand)
{
    const auto r = decode_request(
        R"({"type":"user.set_password","ref":{"user":"bob"},"mode":"generate","extra":1})");
    ASSERT_TRUE(r) << r.error().message;
    const auto& m = std::get<UserSetPassword>(*r);
    EXPECT_EQ(m.ref.user, "bob");
    EXPECT_FALSE(m.ref.account);
    EXPECT_EQ(m.mode, PasswordMode::generate);
    EXPECT_FALSE(m.password);
}

TEST(Wire, RedactsSecretsInLogStrings)
{
    UserSetPassword m;
    m.ref.user = "alice";
    m.password = core::Secret("Tr0ub4dor&3");
    const auto log = to_log_string(Request{std::move(m)});
    EXPECT_EQ(log.find("Tr0ub4dor"), std::string::npos);
    EXPECT_NE(log.find("<redacted>"), std::string::npos);
}

TEST(Wire, RedactsSecretLinesAndEnrolmentsButNotPlainLines)
{
    AuthReply reply;
    reply.messages.push_back({PromptStyle::info, "Scan this QR code", false});
    reply.messages.push_back({PromptStyle::info, "URI: otpauth://totp/x?secret=JBSWY3DP", true});
    const auto log = to_log_string(Response{std::move(reply)});
    EXPECT_NE(log.find("Scan this QR code"), std::string::npos) << log;
    EXPECT_EQ(log.find("JBSWY3DP"), std::string::npos) << log;
    // The wire itself carries the text: only logs redact it.
    AuthReply again;
    again.messages.push_back({PromptStyle::info, "URI: otpauth://totp/x?secret=JBSWY3DP", true});
    EXPECT_NE(encode(Response{std::move(again)}).find("JBSWY3DP"), std::string::npos);

    MfaChallenge c;
    c.user = "alice@web.example.internal";
    c.uri = core::Secret("otpauth://totp/x?secret=JBSWY3DP");
    c.key = core::Secret("JBSWY3DP");
    c.qr.emplace_back("\u2588\u2588");
    MfaEnrolled e;
    e.recovery_codes.emplace_back("abcd-efgh-jkmn");
    const auto logged = to_log_string(Response{std::move(c)}) + to_log_string(Response{std::move(e)});
    EXPECT_EQ(logged.find("JBSWY3DP"), std::string::npos) << logged;
    EXPECT_EQ(logged.find("abcd-efgh"), std::string::npos) << logged;
    EXPECT_NE(logged.find("alice@web.example.internal"), std::string::npos) << logged;
}

TEST(Wire, RejectsUnknownMessageType)
{
    const auto r = decode_request(R"({"type":"launch.missiles"})");
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(core::Errc::protocol_unknown_message));
}

TEST(Wire, RejectsGarbageAndWrongShapes)
{
    for (const char* bad : {"", "\xff\xfe", "[]", "42", R"({"type":7})", R"({"no":"type"})",
                            R"({"type":"account.create","name":5,"kind":"resource"})",
                            R"({"type":"account.create","name":"x","kind":"galaxy"})",
                            R"({"type":"account.create","kind":"resource"})",
                            R"({"type":"hello","version":-1,"client":""})",
                            R"({"type":"hello","version":99999999999,"client":""})"}) {
        const auto r = decode_request(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_TRUE(r.error().is(core::Errc::protocol_malformed) ||
                    r.error().is(core::Errc::protocol_unknown_message))
            << bad;
    }
}

TEST(Wire, RejectsDeeplyNestedJson)
{
    std::string deep(1000, '[');
    deep += std::string(1000, ']');
    EXPECT_FALSE(decode_request(deep));
}

TEST(Wire, SurvivesRandomBytes)
{
    for (int i = 0; i < 2000; ++i) {
        const auto junk = core::random_string(core::random_below(300));
        (void)decode_request(junk);
        (void)decode_response(junk);
        FrameReader reader(1024);
        std::string payload;
        if (reader.feed(junk))
            while (reader.next(payload)) {
            }
    }
}

TEST(Frames, ReassemblesFramesSplitAnywhere)
{
    const auto a = *frame("first", 64);
    const auto b = *frame("second", 64);
    const std::string stream = a + b;
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        FrameReader r(64);
        std::vector<std::string> got;
        std::string p;
        ASSERT_TRUE(r.feed(stream.substr(0, cut)));
        while (r.next(p))
            got.push_back(p);
        ASSERT_TRUE(r.feed(stream.substr(cut)));
        while (r.next(p))
            got.push_back(p);
        ASSERT_EQ(got.size(), 2u) << cut;
        EXPECT_EQ(got[0], "first");
        EXPECT_EQ(got[1], "second");
    }
}

TEST(Frames, HoldsATruncatedFrameUntilTheRestArrives)
{
    const auto f = *frame("hello world", 64);
    FrameReader r(64);
    ASSERT_TRUE(r.feed(f.substr(0, 7)));
    std::string p;
    EXPECT_FALSE(r.next(p));
    EXPECT_EQ(r.wanted(), f.size() - 7);
    EXPECT_EQ(r.pending(), 7u);
}

TEST(Frames, RefusesAnOversizedFrameFromItsHeader)
{
    FrameReader r(max_request_size);
    const std::string header("\x7f\xff\xff\xff", 4); // announces ~2 GiB
    const auto s = r.feed(header);
    ASSERT_FALSE(s);
    EXPECT_TRUE(s.error().is(core::Errc::protocol_too_large));
    EXPECT_FALSE(frame(std::string(65, 'x'), 64));
}

TEST(Frames, AcceptsAnEmptyPayload)
{
    FrameReader r(16);
    ASSERT_TRUE(r.feed(std::string(4, '\0')));
    std::string p = "x";
    ASSERT_TRUE(r.next(p));
    EXPECT_TRUE(p.empty());
}

TEST(Failure, CarriesCodeNameAndMessage)
{
    const auto r = failure({core::Errc::permission_denied, "no"});
    const auto& f = std::get<Failure>(r);
    EXPECT_EQ(f.code, 601);
    EXPECT_EQ(f.error, "permission_denied");
    EXPECT_EQ(f.message, "no");
}

} // namespace
} // namespace latchkey::proto

namespace latchkey::proto {
namespace {

TEST(KeyHelperWire, RoundTripsTheCeremonyAndItsAnswers)
{
    KeyStart start;
    start.ceremony.kind = "create";
    start.ceremony.rp_id = "pam:example.internal";
    start.ceremony.allow = {"AAEC", "AwQF"};
    start.ceremony.user_verification = true;
    start.device = "unix:/run/key.sock";
    auto back = decode_to_key_helper(encode(ToKeyHelper{start}));
    ASSERT_TRUE(back.has_value()) << back.error().message;
    const auto& s = std::get<KeyStart>(*back);
    EXPECT_EQ(s.ceremony.kind, "create");
    EXPECT_EQ(s.ceremony.allow, start.ceremony.allow);
    EXPECT_TRUE(s.ceremony.user_verification);
    EXPECT_EQ(s.device, start.device);

    auto pin = decode_to_key_helper(encode(ToKeyHelper{KeyPin{core::Secret("1234")}}));
    ASSERT_TRUE(pin.has_value());
    EXPECT_TRUE(std::get<KeyPin>(*pin).pin.equals("1234"));

    KeyDone done;
    done.result.problem = "no_device";
    auto d = decode_from_key_helper(encode(FromKeyHelper{done}));
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(std::get<KeyDone>(*d).result.problem, "no_device");
    EXPECT_TRUE(
        std::holds_alternative<KeyTouch>(*decode_from_key_helper(R"({"type":"key.touch"})")));
}

TEST(KeyHelperWire, EachSideRefusesTheOthersMessages)
{
    auto r = decode_to_key_helper(encode(FromKeyHelper{KeyTouch{}}));
    ASSERT_FALSE(r.has_value());
    EXPECT_TRUE(r.error().is(core::Errc::protocol_unknown_message));
    auto s = decode_from_key_helper(encode(ToKeyHelper{KeyPin{}}));
    ASSERT_FALSE(s.has_value());
    EXPECT_TRUE(s.error().is(core::Errc::protocol_unknown_message));
}

} // namespace
} // namespace latchkey::proto
