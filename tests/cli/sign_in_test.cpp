// SPDX-License-Identifier: Apache-2.0
// Unit tests of latchkeyctl's conversations on one connection: `--as USER` signing in before a
// command, `account root recover`, and the order they read standard input in. A scripted
// daemon on a Unix socket in a temporary directory answers; standard input is a pipe.
#include "cli/sign_in.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "../temp_dir.hpp"
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "proto/wire.hpp"

namespace latchkey::cli {
namespace {

constexpr std::int64_t nov23_10h = 1'795'428'000; // 2026-11-23T10:00:00Z

/// Accepts one connection and answers its requests with `replies`, in order, recording what
/// was asked; then closes. Requests after the last reply find the connection closed.
class ScriptedDaemon {
public:
    explicit ScriptedDaemon(std::vector<proto::Response> replies)
        : path_(dir_.file("admin.sock"))
        , replies_(std::move(replies))
    {
        listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
        if (listener_ < 0 ||
            ::bind(listener_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(listener_, 1) != 0)
            ADD_FAILURE() << "cannot listen on " << path_ << ": " << std::strerror(errno);
        thread_ = std::thread([this] { serve(); });
    }

    ScriptedDaemon(const ScriptedDaemon&) = delete;
    ScriptedDaemon& operator=(const ScriptedDaemon&) = delete;

    ~ScriptedDaemon()
    {
        finish();
        ::close(listener_);
    }

    [[nodiscard]] const std::string& path() const { return path_; }

    /// What the client sent, once it is done (waits for the connection to end).
    const std::vector<proto::Request>& requests()
    {
        finish();
        return requests_;
    }

private:
    void finish()
    {
        if (!thread_.joinable())
            return;
        ::shutdown(listener_, SHUT_RDWR); // wakes accept() if nobody connected
        thread_.join();
    }

    void serve()
    {
        const int conn = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (conn < 0)
            return;
        proto::FrameReader reader(proto::max_request_size);
        for (auto& reply : replies_) {
            std::string payload;
            while (!reader.next(payload)) {
                char buf[4096];
                const ssize_t n = ::read(conn, buf, sizeof buf);
                if (n <= 0) {
                    ::close(conn);
                    return;
                }
                if (!reader.feed({buf, static_cast<std::size_t>(n)})) {
                    ::close(conn);
                    return;
                }
            }
            auto request = proto::decode_request(payload);
            if (!request) {
                ADD_FAILURE() << "undecodable request: " << request.error().message;
                break;
            }
            requests_.push_back(std::move(*request));
            auto bytes = proto::frame(proto::encode(reply), proto::max_response_size);
            std::string_view rest = *bytes;
            while (!rest.empty()) {
                const ssize_t n = ::write(conn, rest.data(), rest.size());
                if (n <= 0)
                    break;
                rest.remove_prefix(static_cast<std::size_t>(n));
            }
        }
        ::close(conn);
    }

    test_support::TempDir dir_;
    std::string path_;
    std::vector<proto::Response> replies_;
    std::vector<proto::Request> requests_;
    int listener_ = -1;
    std::thread thread_;
};

template <class... R>
std::vector<proto::Response> script(R&&... replies)
{
    std::vector<proto::Response> out;
    (out.emplace_back(std::forward<R>(replies)), ...);
    return out;
}

/// Standard input reads `text` (a pipe, so not a terminal) until destroyed.
class StdinFrom {
public:
    explicit StdinFrom(std::string_view text)
    {
        int fds[2];
        if (::pipe(fds) != 0)
            ADD_FAILURE() << "pipe: " << std::strerror(errno);
        if (::write(fds[1], text.data(), text.size()) != static_cast<ssize_t>(text.size()))
            ADD_FAILURE() << "cannot fill the pipe";
        ::close(fds[1]);
        saved_ = ::dup(STDIN_FILENO);
        ::dup2(fds[0], STDIN_FILENO);
        ::close(fds[0]);
    }

    StdinFrom(const StdinFrom&) = delete;
    StdinFrom& operator=(const StdinFrom&) = delete;

    ~StdinFrom()
    {
        ::dup2(saved_, STDIN_FILENO);
        ::close(saved_);
    }

    /// What is left unread.
    static std::string rest()
    {
        std::string out;
        char buf[256];
        for (ssize_t n = 0; (n = ::read(STDIN_FILENO, buf, sizeof buf)) > 0;)
            out.append(buf, static_cast<std::size_t>(n));
        return out;
    }

private:
    int saved_ = -1;
};

/// Standard error, collected while alive (sign-in errors and, with --json, its info lines).
class CapturedStderr {
public:
    CapturedStderr()
        : old_(std::cerr.rdbuf(text_.rdbuf()))
    {
    }

    CapturedStderr(const CapturedStderr&) = delete;
    CapturedStderr& operator=(const CapturedStderr&) = delete;

    ~CapturedStderr() { std::cerr.rdbuf(old_); }

    [[nodiscard]] std::string str() const { return text_.str(); }

private:
    std::ostringstream text_;
    std::streambuf* old_;
};

proto::AuthReply prompting(proto::PromptKind kind, proto::PromptStyle style, std::string text,
                           std::vector<proto::Message> messages = {})
{
    proto::AuthReply r;
    r.messages = std::move(messages);
    r.prompt = proto::Prompt{kind, style, std::move(text), std::nullopt};
    return r;
}

proto::AuthReply ask_password()
{
    return prompting(proto::PromptKind::password, proto::PromptStyle::echo_off, "Password: ");
}

proto::AuthReply verdict(proto::Outcome outcome, std::string message = {})
{
    proto::AuthReply r;
    r.verdict = proto::Verdict{outcome, std::move(message), std::nullopt};
    return r;
}

Invocation invocation(const std::vector<std::string>& args)
{
    auto r = parse_args(args);
    if (const auto* e = std::get_if<UsageError>(&r)) {
        ADD_FAILURE() << "usage error: " << e->message;
        return {};
    }
    return std::get<Invocation>(std::move(r));
}

/// Runs latchkeyctl's `args` against `daemon`, with `--socket` and `input` as standard input;
/// `unread` gets what the run left of it.
core::Status run_with(ScriptedDaemon& daemon, std::vector<std::string> args,
                      std::string_view input, std::string& output,
                      std::string* unread = nullptr)
{
    args.insert(args.begin(), {"--socket", daemon.path()});
    const StdinFrom in(input);
    std::ostringstream out;
    auto status = run(invocation(args), out, core::from_unix(nov23_10h));
    output = out.str();
    if (unread != nullptr)
        *unread = StdinFrom::rest();
    return status;
}

template <class T>
const T& as(const proto::Request& r)
{
    static const T none{};
    EXPECT_TRUE(std::holds_alternative<T>(r)) << "got " << proto::type_name(r);
    return std::holds_alternative<T>(r) ? std::get<T>(r) : none;
}

bool answer_is(const proto::Request& r, std::string_view text)
{
    return as<proto::AuthAnswer>(r).answer.equals(text);
}

proto::RoleListReply one_role()
{
    return {{proto::RoleInfo{"bob@web.ex.internal", "web", "account-admin", nov23_10h, "uid:0",
                             std::nullopt}}};
}

// ---- sign_in ----------------------------------------------------------------------------

struct Dialogue {
    std::ostringstream info;
    std::ostringstream error;
    std::vector<std::string> asked;

    SignInIo io()
    {
        return SignInIo{&info, &error, [this](const proto::Prompt& p) {
                            asked.push_back(p.text);
                            return core::Result<core::Secret>(core::Secret("answer-" +
                                                                           std::to_string(
                                                                               asked.size())));
                        }};
    }
};

core::Result<proto::Client> connect_to(const ScriptedDaemon& daemon)
{
    proto::ClientOptions options;
    options.socket_path = daemon.path();
    options.timeout = std::chrono::seconds{10};
    return proto::Client::connect(options);
}

TEST(SignIn, BeginsAsLatchkeyctlAndAnswersEveryPromptUntilSuccess)
{
    ScriptedDaemon daemon(script(
        ask_password(),
        prompting(proto::PromptKind::verification_code, proto::PromptStyle::echo_on,
            "Verification code: ", {{proto::PromptStyle::info, "Password accepted.", false}}),
        verdict(proto::Outcome::success, "Welcome, alice.")));
    auto client = connect_to(daemon);
    ASSERT_TRUE(client) << client.error().message;
    Dialogue d;
    const auto status = sign_in(*client, "alice@management.ex.internal", d.io());
    ASSERT_TRUE(status) << status.error().message;

    const auto& sent = daemon.requests();
    ASSERT_EQ(sent.size(), 3U);
    const auto& begin = as<proto::AuthBegin>(sent[0]);
    EXPECT_EQ(begin.service, "latchkeyctl");
    EXPECT_EQ(begin.user, "alice@management.ex.internal");
    EXPECT_FALSE(begin.single_prompt);
    EXPECT_TRUE(answer_is(sent[1], "answer-1"));
    EXPECT_TRUE(answer_is(sent[2], "answer-2"));
    EXPECT_EQ(d.asked, (std::vector<std::string>{"Password: ", "Verification code: "}));
    EXPECT_EQ(d.info.str(), "Password accepted.\nWelcome, alice.\n");
    EXPECT_EQ(d.error.str(), "");
}

TEST(SignIn, ShowsSecretAndErrorLinesAndAnswersAnInfoPromptEmpty)
{
    ScriptedDaemon daemon(script(
        prompting(proto::PromptKind::other, proto::PromptStyle::info, "Touch your security key",
            {{proto::PromptStyle::error, "Your account requires MFA.", false},
             {proto::PromptStyle::info, "otpauth://totp/x?secret=ABC", true}}),
        verdict(proto::Outcome::success)));
    auto client = connect_to(daemon);
    ASSERT_TRUE(client) << client.error().message;
    Dialogue d;
    ASSERT_TRUE(sign_in(*client, "alice", d.io()));
    const auto& sent = daemon.requests();
    ASSERT_EQ(sent.size(), 2U);
    EXPECT_TRUE(answer_is(sent[1], ""));
    EXPECT_TRUE(d.asked.empty());
    EXPECT_EQ(d.error.str(), "Your account requires MFA.\n");
    EXPECT_EQ(d.info.str(), "otpauth://totp/x?secret=ABC\nTouch your security key\n");
}

TEST(SignIn, FailsWithTheVerdictsMessageWhenNotSignedIn)
{
    ScriptedDaemon daemon(
        script(ask_password(), verdict(proto::Outcome::denied, "wrong password or code")));
    auto client = connect_to(daemon);
    ASSERT_TRUE(client) << client.error().message;
    Dialogue d;
    const auto status = sign_in(*client, "alice", d.io());
    ASSERT_FALSE(status);
    EXPECT_TRUE(status.error().is(core::Errc::permission_denied));
    EXPECT_EQ(status.error().message, "signing in as 'alice' failed: wrong password or code");

    ScriptedDaemon quiet(script(verdict(proto::Outcome::unavailable)));
    auto other = connect_to(quiet);
    ASSERT_TRUE(other) << other.error().message;
    EXPECT_EQ(sign_in(*other, "alice", d.io()).error().message,
              "signing in as 'alice' failed: unavailable");
}

TEST(SignIn, ReportsAFailureReplyAndABrokenDialogue)
{
    ScriptedDaemon refusing(script(proto::Failure{601, "permission_denied", "not here"}));
    auto client = connect_to(refusing);
    ASSERT_TRUE(client) << client.error().message;
    Dialogue d;
    EXPECT_EQ(sign_in(*client, "alice", d.io()).error().message, "not here");

    proto::AuthReply both = ask_password();
    both.verdict = proto::Verdict{};
    ScriptedDaemon broken(script(std::move(both)));
    auto second = connect_to(broken);
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_TRUE(sign_in(*second, "alice", d.io()).error().is(core::Errc::protocol_malformed));

    ScriptedDaemon empty(script(proto::AuthReply{}));
    auto third = connect_to(empty);
    ASSERT_TRUE(third) << third.error().message;
    EXPECT_TRUE(sign_in(*third, "alice", d.io()).error().is(core::Errc::protocol_malformed));
}

// ---- run() with --as ----------------------------------------------------------------------

TEST(RunAs, SignsInOnTheSameConnectionBeforeTheCommandsRequest)
{
    ScriptedDaemon daemon(script(
        ask_password(),
        prompting(proto::PromptKind::verification_code, proto::PromptStyle::echo_on,
            "Verification code: "),
        verdict(proto::Outcome::success), one_role()));
    std::string out;
    const auto status = run_with(daemon, {"--as", "alice@management.ex.internal", "role", "list"},
                                 "Passw0rd!\n123456\n", out);
    ASSERT_TRUE(status) << status.error().message;
    const auto& sent = daemon.requests();
    ASSERT_EQ(sent.size(), 4U);
    EXPECT_EQ(as<proto::AuthBegin>(sent[0]).user, "alice@management.ex.internal");
    EXPECT_TRUE(answer_is(sent[1], "Passw0rd!"));
    EXPECT_TRUE(answer_is(sent[2], "123456"));
    EXPECT_FALSE(as<proto::RoleList>(sent[3]).account.has_value());
    EXPECT_NE(out.find("bob@web.ex.internal  account-admin  active"), std::string::npos) << out;
}

TEST(RunAs, StopsWithTheVerdictsMessageAndSendsNoRequest)
{
    ScriptedDaemon daemon(script(ask_password(), verdict(proto::Outcome::denied, "denied here")));
    std::string out;
    const auto status = run_with(daemon, {"--as", "alice@web.ex.internal", "account", "close", "web", "--yes"},
                                 "wrong\n", out);
    ASSERT_FALSE(status);
    EXPECT_EQ(status.error().message, "signing in as 'alice@web.ex.internal' failed: denied here");
    EXPECT_EQ(daemon.requests().size(), 2U);
    EXPECT_EQ(out, "");
}

TEST(RunAs, FailsWhenStandardInputHasNoAnswer)
{
    ScriptedDaemon daemon(script(ask_password()));
    std::string out;
    const auto status = run_with(daemon, {"--as", "alice@web.ex.internal", "role", "list"}, "", out);
    ASSERT_FALSE(status);
    EXPECT_EQ(status.error().message, "no answer on standard input to 'Password: '");
}

TEST(RunAs, ReadsTheSignInAnswersBeforeTheCommandsOwnInput)
{
    proto::AccountReply account;
    account.account.name = "web";
    account.account.phone = "+15551234567";
    ScriptedDaemon daemon(
        script(ask_password(), verdict(proto::Outcome::success), std::move(account)));
    std::string out;
    const auto status = run_with(daemon, {"--as", "alice@web.ex.internal", "account", "phone", "verify", "web"},
                                 "Passw0rd!\n654321\n", out);
    ASSERT_TRUE(status) << status.error().message;
    const auto& sent = daemon.requests();
    ASSERT_EQ(sent.size(), 3U);
    EXPECT_TRUE(answer_is(sent[1], "Passw0rd!"));
    const auto& verify = as<proto::PhoneVerify>(sent[2]);
    EXPECT_EQ(verify.account, "web");
    EXPECT_TRUE(verify.code.equals("654321"));
    EXPECT_NE(out.find("phone:                    +15551234567\n"), std::string::npos) << out;
}

TEST(RunAs, ReadsANewPasswordAfterTheSignIn)
{
    proto::UserReply user;
    user.user.logon_name = "bob@web.ex.internal";
    ScriptedDaemon daemon(
        script(ask_password(), verdict(proto::Outcome::success), std::move(user)));
    std::string out;
    ASSERT_TRUE(run_with(daemon, {"--as", "alice@web.ex.internal", "user", "set-password", "bob"},
                         "Passw0rd!\nN3w-Passw0rd!\n", out));
    const auto& sent = daemon.requests();
    ASSERT_EQ(sent.size(), 3U);
    EXPECT_TRUE(answer_is(sent[1], "Passw0rd!"));
    const auto& reset = as<proto::UserSetPassword>(sent[2]);
    ASSERT_TRUE(reset.password.has_value());
    EXPECT_TRUE(reset.password->equals("N3w-Passw0rd!"));
}

TEST(RunAs, KeepsStandardOutputForTheJsonReply)
{
    ScriptedDaemon daemon(script(
        prompting(proto::PromptKind::password, proto::PromptStyle::echo_off, "Password: ",
            {{proto::PromptStyle::info, "Signing in to latchkey.", false}}),
        verdict(proto::Outcome::success), one_role()));
    std::string out;
    const CapturedStderr err;
    ASSERT_TRUE(run_with(daemon, {"--json", "--as", "alice@web.ex.internal", "role", "list"}, "pw\n", out));
    EXPECT_EQ(out.rfind("{\"roles\":[", 0), 0U) << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
    EXPECT_EQ(err.str(), "Signing in to latchkey.\n");
}

TEST(RunAs, EnrolsMfaForAUserAfterSigningIn)
{
    proto::MfaChallenge challenge;
    challenge.user = "bob@web.ex.internal";
    challenge.uri = core::Secret("otpauth://totp/bob?secret=XYZ");
    proto::MfaEnrolled enrolled;
    enrolled.device.user = "bob@web.ex.internal";
    ScriptedDaemon daemon(script(ask_password(), verdict(proto::Outcome::success),
                                 std::move(challenge), std::move(enrolled)));
    std::string out;
    const auto status = run_with(daemon, {"--as", "alice@web.ex.internal", "mfa", "enroll", "bob"},
                                 "Passw0rd!\n111111\n222222\n", out);
    ASSERT_TRUE(status) << status.error().message;
    const auto& sent = daemon.requests();
    ASSERT_EQ(sent.size(), 4U);
    EXPECT_TRUE(answer_is(sent[1], "Passw0rd!"));
    EXPECT_EQ(as<proto::MfaEnroll>(sent[2]).ref->user, "bob");
    EXPECT_TRUE(as<proto::MfaConfirm>(sent[3]).first_code.equals("111111"));
    EXPECT_TRUE(as<proto::MfaConfirm>(sent[3]).second_code.equals("222222"));
    EXPECT_EQ(out.rfind("otpauth://totp/bob?secret=XYZ\n", 0), 0U) << out;
}

// ---- account root recover ---------------------------------------------------------------

TEST(RootRecover, SendsACodeThenTheCodeAndNewPasswordFromTwoLines)
{
    ScriptedDaemon daemon(script(proto::Done{"sent a verification code to +1555***4567"},
                                 proto::Done{"root's password of lab is set"}));
    std::string out;
    std::string unread;
    const auto status = run_with(daemon, {"account", "root", "recover", "lab"},
                                 "123456\nN3w-Root-Pass!\nmore\n", out, &unread);
    ASSERT_TRUE(status) << status.error().message;
    EXPECT_EQ(unread, "more\n");
    const auto& sent = daemon.requests();
    ASSERT_EQ(sent.size(), 2U);
    const auto& send = as<proto::RootRecover>(sent[0]);
    EXPECT_EQ(send.account, "lab");
    EXPECT_FALSE(send.code.has_value());
    EXPECT_FALSE(send.password.has_value());
    const auto& set = as<proto::RootRecover>(sent[1]);
    EXPECT_EQ(set.account, "lab");
    ASSERT_TRUE(set.code && set.password);
    EXPECT_TRUE(set.code->equals("123456"));
    EXPECT_TRUE(set.password->equals("N3w-Root-Pass!"));
    EXPECT_EQ(out, "sent a verification code to +1555***4567\nroot's password of lab is set\n");
}

TEST(RootRecover, OnlySendsWithSendOnlyAndReadsNothing)
{
    ScriptedDaemon daemon(script(proto::Done{"sent"}));
    std::string out;
    std::string unread;
    ASSERT_TRUE(run_with(daemon, {"account", "root", "recover", "lab", "--send-only"},
                         "not read\n", out, &unread));
    EXPECT_EQ(unread, "not read\n");
    EXPECT_EQ(daemon.requests().size(), 1U);
    EXPECT_FALSE(as<proto::RootRecover>(daemon.requests()[0]).code.has_value());
    EXPECT_EQ(out, "sent\n");
}

TEST(RootRecover, UsesACodeSentBeforeWithCode)
{
    ScriptedDaemon daemon(script(proto::Done{"set"}));
    std::string out;
    ASSERT_TRUE(run_with(daemon, {"account", "root", "recover", "lab", "--code"},
                         "123456\nN3w-Root-Pass!\n", out));
    ASSERT_EQ(daemon.requests().size(), 1U);
    const auto& set = as<proto::RootRecover>(daemon.requests()[0]);
    ASSERT_TRUE(set.code && set.password);
    EXPECT_TRUE(set.code->equals("123456"));
    EXPECT_TRUE(set.password->equals("N3w-Root-Pass!"));
}

TEST(RootRecover, SignsInFirstAndReadsItsAnswersBeforeTheCodeAndPassword)
{
    ScriptedDaemon daemon(script(ask_password(), verdict(proto::Outcome::success),
                                 proto::Done{"sent"}, proto::Done{"set"}));
    std::string out;
    const auto status = run_with(daemon, {"--as", "alice@web.ex.internal", "account", "root", "recover", "lab"},
                                 "Passw0rd!\n123456\nN3w-Root-Pass!\n", out);
    ASSERT_TRUE(status) << status.error().message;
    const auto& sent = daemon.requests();
    ASSERT_EQ(sent.size(), 4U);
    EXPECT_TRUE(answer_is(sent[1], "Passw0rd!"));
    EXPECT_FALSE(as<proto::RootRecover>(sent[2]).code.has_value());
    EXPECT_TRUE(as<proto::RootRecover>(sent[3]).code->equals("123456"));
    EXPECT_TRUE(as<proto::RootRecover>(sent[3]).password->equals("N3w-Root-Pass!"));
}

TEST(RootRecover, StopsWhenTheCodeCannotBeSentOrThePasswordIsMissing)
{
    ScriptedDaemon refusing(
        script(proto::Failure{605, "failed_precondition", "account lab has no bound phone"}));
    std::string out;
    const auto refused = run_with(refusing, {"account", "root", "recover", "lab"}, "", out);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().message, "account lab has no bound phone");
    EXPECT_EQ(refusing.requests().size(), 1U);

    ScriptedDaemon daemon(script(proto::Done{"sent"}));
    const auto empty = run_with(daemon, {"account", "root", "recover", "lab"}, "123456\n\n", out);
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error().message,
              "the new password is empty; nothing was changed (to use the code sent, run "
              "'latchkeyctl account root recover lab --code')");
    EXPECT_EQ(daemon.requests().size(), 1U);

    ScriptedDaemon no_code(script(proto::Done{"sent"}));
    EXPECT_EQ(run_with(no_code, {"account", "root", "recover", "lab"}, "", out).error().message,
              "no verification code on standard input");
}

TEST(PhoneVerify, TakesTheCodeFromTheCommandLineWithoutReadingStandardInput)
{
    ScriptedDaemon daemon(script(proto::AccountReply{}));
    std::string out;
    std::string unread;
    ASSERT_TRUE(run_with(daemon, {"account", "phone", "verify", "web", "123456"}, "999999\n", out,
                         &unread));
    EXPECT_EQ(unread, "999999\n");
    ASSERT_EQ(daemon.requests().size(), 1U);
    EXPECT_TRUE(as<proto::PhoneVerify>(daemon.requests()[0]).code.equals("123456"));
}

} // namespace
} // namespace latchkey::cli
