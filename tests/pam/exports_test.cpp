// SPDX-License-Identifier: Apache-2.0
// The built pam_latchkey.so as libpam sees it: it exports the six pam_sm_* and nothing else,
// needs no library beyond libpam, libstdc++ and libc, and fails closed (and fast) through a real
// libpam stack when latchkeyd is missing, silent or untrusted (pam-u2f tests/dlsym_check.c).
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <security/pam_appl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/c_handle.hpp"
#include "tests/elf_dynamic.hpp"
#include "proto/client.hpp"
#include "proto/wire.hpp"

#ifndef LATCHKEY_PAM_MODULE
#error "LATCHKEY_PAM_MODULE must name the built pam_latchkey.so"
#endif

namespace latchkey {
namespace {

using test_support::read_dynamic;

const std::set<std::string> entry_points = {
    "pam_sm_authenticate", "pam_sm_setcred",      "pam_sm_acct_mgmt",
    "pam_sm_chauthtok",    "pam_sm_open_session", "pam_sm_close_session",
};

TEST(PamExports, ExportsOnlyTheSixEntryPoints)
{
    const auto info = read_dynamic(LATCHKEY_PAM_MODULE);
    EXPECT_EQ(info.defined, entry_points) << "pam_latchkey.sym must hide everything else";
}

TEST(PamExports, NeedsOnlyLibpamLibstdcxxAndLibc)
{
    // A PAM module lives inside sshd, sudo and gdm: no Boost runtime, sqlite, OpenSSL...
    const std::set<std::string> allowed = {"libpam.so.0", "libstdc++.so.6", "libgcc_s.so.1",
                                           "libm.so.6", "libc.so.6"};
    const auto info = read_dynamic(LATCHKEY_PAM_MODULE);
    EXPECT_FALSE(info.needed.empty());
    for (const auto& lib : info.needed) {
        const bool sanitizer = lib.starts_with("libasan") || lib.starts_with("libubsan");
        EXPECT_TRUE(allowed.contains(lib) || sanitizer) << "pam_latchkey.so needs " << lib;
    }
}

TEST(PamExports, LoadsWithEveryEntryPointResolved)
{
    void* module = dlopen(LATCHKEY_PAM_MODULE, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(module, nullptr) << dlerror();
    for (const auto& name : entry_points)
        EXPECT_NE(dlsym(module, name.c_str()), nullptr) << name;
    EXPECT_EQ(dlsym(module, "_ZN8latchkey4core15latchkey_categoryEv"), nullptr);
    using Hook = int (*)(pam_handle_t*, int, int, const char**);
    const auto setcred = reinterpret_cast<Hook>(dlsym(module, "pam_sm_setcred"));
    ASSERT_NE(setcred, nullptr);
    EXPECT_EQ(setcred(nullptr, 0, 0, nullptr), PAM_SUCCESS);
    dlclose(module);
}

// ---- through libpam ---------------------------------------------------------------------

/// Answers every prompt with "hunter2" and counts them.
int answer_hunter2(int n, const pam_message** msg, pam_response** resp, void* data)
{
    auto* prompts = static_cast<int*>(data);
    *resp = static_cast<pam_response*>(
        std::calloc(static_cast<std::size_t>(n), sizeof(pam_response)));
    for (int i = 0; i < n; ++i) {
        if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON) {
            ++*prompts;
            (*resp)[i].resp = strdup("hunter2");
        }
    }
    return PAM_SUCCESS;
}

/// A service "latchkey-test" whose every stack is pam_latchkey.so on a socket in a temp dir.
class ThroughLibpam : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::string dir = (std::filesystem::temp_directory_path() / "latchkey-pam-XXXXXX").string();
        ASSERT_NE(::mkdtemp(dir.data()), nullptr);
        dir_ = dir;
        socket_ = dir_ / "pam.sock";
    }

    void TearDown() override
    {
        if (pamh_ != nullptr)
            pam_end(pamh_, PAM_SUCCESS);
        // A failed test may leave the server waiting for a connection: wake it.
        if (listener_.valid())
            ::shutdown(listener_.get(), SHUT_RDWR);
        join();
        std::filesystem::remove_all(dir_);
    }

    void start(const std::string& args)
    {
        std::ofstream conf(dir_ / "latchkey-test");
        for (const char* type : {"auth", "account", "password", "session"})
            conf << type << " required " << LATCHKEY_PAM_MODULE << " socket=" << socket_.string()
                 << " " << args << "\n";
        conf.close();
        conv_ = pam_conv{answer_hunter2, &prompts_};
        ASSERT_EQ(pam_start_confdir("latchkey-test", "alice", &conv_, dir_.c_str(), &pamh_),
                  PAM_SUCCESS);
    }

    /// Listens on the socket and runs `serve` on each of the first `connections`, in a thread.
    /// `listen_as`: the effective uid in force at listen(2), which is what SO_PEERCRED tells
    /// the module about its server (root can so play an untrusted daemon).
    void listen(std::function<void(int fd)> serve, int connections = 1,
                std::optional<uid_t> listen_as = std::nullopt)
    {
        core::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        ASSERT_TRUE(fd.valid());
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        const auto path = socket_.string();
        ASSERT_LT(path.size(), sizeof addr.sun_path);
        std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
        ASSERT_EQ(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
        if (listen_as) {
            ASSERT_EQ(::seteuid(*listen_as), 0);
        }
        const int listened = ::listen(fd.get(), 4);
        if (listen_as) {
            ASSERT_EQ(::seteuid(0), 0);
        }
        ASSERT_EQ(listened, 0);
        listener_ = std::move(fd);
        server_ = std::thread([listener = listener_.get(), serve = std::move(serve), connections] {
            for (int i = 0; i < connections; ++i) {
                const core::UniqueFd conn(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
                if (!conn.valid())
                    return;
                serve(conn.get());
            }
        });
    }

    /// Waits for the server to have served all its connections.
    void join()
    {
        if (server_.joinable())
            server_.join();
    }

    static bool we_are_trusted()
    {
        const auto trusted = proto::default_trusted_uids();
        return std::find(trusted.begin(), trusted.end(), ::getuid()) != trusted.end();
    }

    pam_handle_t* pamh_ = nullptr;
    int prompts_ = 0;
    std::filesystem::path socket_;

private:
    std::filesystem::path dir_;
    pam_conv conv_{};
    core::UniqueFd listener_;
    std::thread server_;
};

/// Reads one request from a blocking socket (empty when the peer went away).
std::optional<proto::Request> read_request(int fd)
{
    proto::FrameReader reader(proto::max_request_size);
    std::string payload;
    char buf[4096];
    while (!reader.next(payload)) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0 || !reader.feed({buf, static_cast<std::size_t>(n)}))
            return std::nullopt;
    }
    auto r = proto::decode_request(payload);
    if (!r)
        return std::nullopt;
    return std::move(r).value();
}

void write_response(int fd, const proto::Response& r)
{
    const auto bytes = proto::frame(proto::encode(r), proto::max_response_size);
    ASSERT_TRUE(bytes);
    ASSERT_EQ(::send(fd, bytes->data(), bytes->size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes->size()));
}

TEST_F(ThroughLibpam, MissingDaemonIsAuthinfoUnavailAndBadOptionsAreHarmless)
{
    start("timeout=1 no_such_option");
    EXPECT_EQ(pam_authenticate(pamh_, 0), PAM_AUTHINFO_UNAVAIL);
    EXPECT_EQ(pam_acct_mgmt(pamh_, 0), PAM_AUTHINFO_UNAVAIL);
    EXPECT_EQ(pam_open_session(pamh_, 0), PAM_SESSION_ERR);
    EXPECT_EQ(pam_close_session(pamh_, 0), PAM_SESSION_ERR);
    EXPECT_EQ(pam_chauthtok(pamh_, 0), PAM_TRY_AGAIN);
    EXPECT_EQ(prompts_, 0);
}

TEST_F(ThroughLibpam, ASilentDaemonCostsNoMoreThanTheTimeout)
{
    ASSERT_TRUE(we_are_trusted()) << "run as root: the module trusts only root and the latchkey "
                                     "user as its server";
    listen([](int fd) {
        (void)read_request(fd);
        // Never answer; wait for the module to give up and hang up.
        (void)read_request(fd);
    });
    start("timeout=1");
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(pam_authenticate(pamh_, 0), PAM_AUTHINFO_UNAVAIL);
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_LT(took, std::chrono::seconds(3));
    EXPECT_GE(took, std::chrono::milliseconds(900));
}

TEST_F(ThroughLibpam, AnUntrustedServerIsAuthinfoUnavail)
{
    // As root, the fake daemon listens under uid 65534 (nobody), whom the module must not trust.
    std::optional<uid_t> as;
    if (::getuid() == 0)
        as = 65534;
    listen([](int fd) { (void)read_request(fd); }, 1, as);
    start("timeout=2");
    EXPECT_EQ(pam_authenticate(pamh_, 0), PAM_AUTHINFO_UNAVAIL);
    EXPECT_EQ(prompts_, 0);
}

TEST_F(ThroughLibpam, RunsADialogueAndHandsTheLogonToTheSession)
{
    ASSERT_TRUE(we_are_trusted()) << "run as root: the module trusts only root and the latchkey "
                                     "user as its server";
    std::vector<std::string> seen;
    std::string answer;
    std::optional<std::string> logon_id;
    listen([&](int fd) {
        for (;;) {
            auto request = read_request(fd);
            if (!request)
                return;
            seen.emplace_back(proto::type_name(*request));
            proto::AuthReply reply;
            if (std::holds_alternative<proto::AuthBegin>(*request)) {
                reply.prompt =
                    proto::Prompt{proto::PromptKind::password, proto::PromptStyle::echo_off,
                                  "Password: ", std::nullopt};
            } else if (auto* a = std::get_if<proto::AuthAnswer>(&*request)) {
                answer = a->answer.view();
                reply.verdict = proto::Verdict{proto::Outcome::success, "", "logon-1"};
            } else if (auto* open = std::get_if<proto::SessionOpen>(&*request)) {
                logon_id = open->logon_id;
                write_response(fd, proto::SessionReply{"session-1"});
                continue;
            }
            write_response(fd, reply);
        }
    }, 2);
    start("timeout=5");
    ASSERT_EQ(pam_authenticate(pamh_, 0), PAM_SUCCESS);
    EXPECT_EQ(prompts_, 1);
    const char* env = pam_getenv(pamh_, "LATCHKEY_LOGON_ID");
    ASSERT_NE(env, nullptr);
    EXPECT_STREQ(env, "logon-1");
    EXPECT_EQ(pam_setcred(pamh_, PAM_ESTABLISH_CRED), PAM_SUCCESS);
    EXPECT_EQ(pam_open_session(pamh_, 0), PAM_SUCCESS);
    EXPECT_EQ(pam_getenv(pamh_, "LATCHKEY_LOGON_ID"), nullptr) << "never leaks into the session";
    join();
    EXPECT_THAT(seen, ::testing::ElementsAre("auth.begin", "auth.answer", "session.open"));
    EXPECT_EQ(answer, "hunter2");
    EXPECT_EQ(logon_id, "logon-1");
}

} // namespace
} // namespace latchkey
