// SPDX-License-Identifier: Apache-2.0
// latchkey-fido's conversation, with the test in the PAM module's place: key.start, the PIN
// when the key wants it, key.touch, key.done; what comes back verifies with webauthn/ as a
// browser's answer does. Once through the library in a thread, once through the real binary.
#include "hostkey/helper.hpp"

#include <cstdlib>
#include <filesystem>
#include <thread>

#include <fcntl.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include "core/random.hpp"
#include "proto/wire.hpp"
#include "tests/hostkey/key_server.hpp"
#include "tests/temp_dir.hpp"
#include "webauthn/authentication.hpp"
#include "webauthn/ceremony.hpp"
#include "webauthn/registration.hpp"
#include "webauthn/response.hpp"

extern char** environ;

namespace latchkey::hostkey {
namespace {

using test_support::TempDir;
using testing::KeyServer;
using testing::SoftwareKey;

const webauthn::RelyingParty rp{
    "pam:example.internal", "latchkey", {"pam://example.internal"}, false, {}};
const std::string handle = "alice's handle!!";

std::string b64(std::string_view s)
{
    return core::base64_encode(s, true, false);
}

core::TimePoint now()
{
    return core::TimePoint(std::chrono::seconds(1'800'000'000));
}

/// The module's end and the helper's end of a socketpair.
std::pair<proto::Channel, proto::Channel> pair_of_channels()
{
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds), 0);
    return {proto::Channel(core::UniqueFd(fds[0]), std::chrono::seconds(10), {"latchkey-fido"}),
            proto::Channel(core::UniqueFd(fds[1]), std::chrono::seconds(10), {"the module"})};
}

class HelperTest : public ::testing::Test {
protected:
    explicit HelperTest(SoftwareKey::Options o = {})
        : key(std::move(o))
        , server(key, (dir.path() / "key.sock").string())
    {
    }

    /// The module's side of one conversation, the helper run in a thread; `pin` answers
    /// key.need_pin. Returns every message the helper sent.
    std::vector<proto::FromKeyHelper> converse(const proto::SecurityKeyCeremony& c,
                                               std::optional<std::string> pin = {},
                                               std::string device = {})
    {
        auto [module, helper] = pair_of_channels();
        core::Status served;
        std::thread t([&, &h = helper] { served = serve_ceremony(h); });
        std::vector<proto::FromKeyHelper> got;
        EXPECT_TRUE(module.send(proto::encode(proto::ToKeyHelper{
                                    proto::KeyStart{c, device.empty() ? server.where() : device}}),
                                proto::max_key_message));
        for (;;) {
            auto text = module.receive(proto::max_key_message);
            if (!text)
                break;
            auto m = proto::decode_from_key_helper(*text);
            EXPECT_TRUE(m.has_value());
            if (!m)
                break;
            got.push_back(*m);
            if (std::holds_alternative<proto::KeyNeedPin>(*m)) {
                EXPECT_TRUE(module.send(proto::encode(proto::ToKeyHelper{
                                            proto::KeyPin{core::Secret(pin.value_or(""))}}),
                                        proto::max_key_message));
            }
            if (std::holds_alternative<proto::KeyDone>(*m))
                break;
        }
        t.join();
        EXPECT_TRUE(served) << served.error().message;
        return got;
    }

    proto::SecurityKeyCeremony create(const webauthn::Options& o, bool uv = false)
    {
        proto::SecurityKeyCeremony c;
        c.kind = "create";
        c.rp_id = rp.id;
        c.rp_name = rp.name;
        c.origin = rp.origins[0];
        c.challenge = b64(o.pending.challenge);
        c.user_handle = b64(handle);
        c.user_name = "alice@example.internal";
        c.user_verification = uv;
        return c;
    }

    proto::SecurityKeyCeremony
    get(const webauthn::Options& o, const std::string& id, bool uv = false)
    {
        proto::SecurityKeyCeremony c;
        c.rp_id = rp.id;
        c.origin = rp.origins[0];
        c.challenge = b64(o.pending.challenge);
        c.allow = {b64(id)};
        c.user_verification = uv;
        return c;
    }

    static const proto::SecurityKeyResult& result(const std::vector<proto::FromKeyHelper>& got)
    {
        static const proto::SecurityKeyResult none{{}, "no key.done"};
        return got.empty() || !std::holds_alternative<proto::KeyDone>(got.back())
                   ? none
                   : std::get<proto::KeyDone>(got.back()).result;
    }

    /// Enrols through the helper; the credential as webauthn/ registered it.
    webauthn::RegisteredCredential enrol(bool uv = false, std::optional<std::string> pin = {})
    {
        webauthn::RegistrationRequest req;
        req.user_name = "alice@example.internal";
        req.user_handle = handle;
        const auto o = webauthn::begin_registration(rp, req, now());
        const auto got = converse(create(o, uv), pin);
        const auto& r = result(got);
        EXPECT_EQ(r.problem, "");
        auto parsed = webauthn::parse_registration_response(r.response);
        EXPECT_TRUE(parsed.has_value()) << r.response;
        if (!parsed)
            return {};
        auto registered = webauthn::verify_registration(o.pending, *parsed, {}, now());
        EXPECT_TRUE(registered.has_value()) << registered.error().message;
        return registered ? *registered : webauthn::RegisteredCredential{};
    }

    core::Result<webauthn::VerifiedAssertion> verify(const webauthn::Options& o,
                                                     const webauthn::RegisteredCredential& c,
                                                     const std::string& response)
    {
        LATCHKEY_TRY(parsed, webauthn::parse_authentication_response(response));
        return webauthn::verify_authentication(o.pending, parsed,
                                               {c.id, c.public_key, 0, handle, {}}, now());
    }

    webauthn::Options begin_get(const webauthn::RegisteredCredential& c)
    {
        webauthn::AuthenticationRequest req;
        req.allow.push_back({c.id, {"usb"}});
        req.user_handle = handle;
        return webauthn::begin_authentication(rp, req, now());
    }

    TempDir dir;
    SoftwareKey key;
    KeyServer server;
};

TEST_F(HelperTest, EnrolsAKeyAndSignsInWithItAsABrowserWould)
{
    const auto c = enrol();
    ASSERT_FALSE(c.id.empty());
    const auto o = begin_get(c);
    const auto got = converse(get(o, c.id));
    ASSERT_EQ(got.size(), 2U);
    EXPECT_TRUE(std::holds_alternative<proto::KeyTouch>(got[0]));
    const auto& r = result(got);
    ASSERT_EQ(r.problem, "");
    auto v = verify(o, c, r.response);
    ASSERT_TRUE(v.has_value()) << v.error().message;
    EXPECT_FALSE(v->user_verified);
}

TEST_F(HelperTest, NoKeyThereIsNoDevice)
{
    webauthn::RegistrationRequest req;
    req.user_name = "alice";
    const auto o = webauthn::begin_registration(rp, req, now());
    const auto got = converse(create(o), {}, "unix:" + (dir.path() / "nothing.sock").string());
    ASSERT_EQ(got.size(), 1U);
    EXPECT_EQ(result(got).problem, "no_device");
}

TEST_F(HelperTest, AMalformedStartEndsTheConversation)
{
    auto [module, helper] = pair_of_channels();
    proto::SecurityKeyCeremony c;
    c.kind = "delete";
    ASSERT_TRUE(module.send(proto::encode(proto::ToKeyHelper{proto::KeyStart{c, "usb"}}),
                            proto::max_key_message));
    const auto served = serve_ceremony(helper);
    ASSERT_FALSE(served.has_value());
    EXPECT_TRUE(served.error().is(core::Errc::protocol_malformed)) << served.error().message;
}

class PinHelperTest : public HelperTest {
protected:
    PinHelperTest()
        : HelperTest(SoftwareKey::Options::with_pin("8642"))
    {
    }
};

TEST_F(PinHelperTest, AsksForThePinThenForATouch)
{
    const auto c = enrol(true, "8642");
    EXPECT_TRUE(c.user_verified);
    const auto o = begin_get(c);
    const auto got = converse(get(o, c.id, true), "8642");
    ASSERT_EQ(got.size(), 3U);
    ASSERT_TRUE(std::holds_alternative<proto::KeyNeedPin>(got[0]));
    EXPECT_EQ(std::get<proto::KeyNeedPin>(got[0]).retries, 8);
    EXPECT_TRUE(std::holds_alternative<proto::KeyTouch>(got[1]));
    auto v = verify(o, c, result(got).response);
    ASSERT_TRUE(v.has_value()) << v.error().message;
    EXPECT_TRUE(v->user_verified);
}

TEST_F(PinHelperTest, AWrongPinAndNoPinEachHaveTheirProblem)
{
    const auto c = enrol(true, "8642");
    const auto o = begin_get(c);
    EXPECT_EQ(result(converse(get(o, c.id, true), "1111")).problem, "pin_invalid");
    EXPECT_EQ(result(converse(get(o, c.id, true), "")).problem, "pin_required");
    EXPECT_EQ(key.pin_retries(), 7);
}

TEST_F(PinHelperTest, AnEnrolmentAlwaysAsksAKeysPinASignInOnlyWhenItMustVerify)
{
    const auto c = enrol(false, "8642"); // the ceremony asks no verification; the key its PIN
    EXPECT_TRUE(c.user_verified);
    const auto o = begin_get(c);
    const auto got = converse(get(o, c.id, false));
    ASSERT_EQ(got.size(), 2U); // a touch, then the answer: no PIN
    EXPECT_TRUE(std::holds_alternative<proto::KeyTouch>(got[0]));
    auto v = verify(o, c, result(got).response);
    ASSERT_TRUE(v.has_value()) << v.error().message;
    EXPECT_FALSE(v->user_verified);
}

TEST_F(HelperTest, TheInstalledBinaryServesTheSameConversation)
{
    const char* build = std::getenv("LATCHKEY_BUILD_DIR");
    ASSERT_NE(build, nullptr) << "meson sets LATCHKEY_BUILD_DIR";
    const std::string helper = std::string(build) + "/hostkey/latchkey-fido";
    const auto c = enrol();
    const auto o = begin_get(c);

    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    core::UniqueFd theirs(fds[1]);
    proto::Channel module{core::UniqueFd(fds[0]), std::chrono::seconds(10), {"latchkey-fido"}};
    ASSERT_EQ(::fcntl(module.fd(), F_SETFL, O_NONBLOCK), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, theirs.get(), 0);
    char* argv[] = {const_cast<char*>(helper.c_str()), nullptr};
    pid_t pid = 0;
    ASSERT_EQ(::posix_spawn(&pid, helper.c_str(), &actions, nullptr, argv, environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    theirs.reset();

    ASSERT_TRUE(module.send(
        proto::encode(proto::ToKeyHelper{proto::KeyStart{get(o, c.id), server.where()}}),
        proto::max_key_message));
    std::vector<proto::FromKeyHelper> got;
    while (got.empty() || !std::holds_alternative<proto::KeyDone>(got.back())) {
        auto text = module.receive(proto::max_key_message);
        ASSERT_TRUE(text.has_value()) << text.error().message;
        auto m = proto::decode_from_key_helper(*text);
        ASSERT_TRUE(m.has_value());
        got.push_back(*m);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    auto v = verify(o, c, result(got).response);
    EXPECT_TRUE(v.has_value()) << v.error().message;
}

} // namespace
} // namespace latchkey::hostkey
