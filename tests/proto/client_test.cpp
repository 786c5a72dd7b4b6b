// SPDX-License-Identifier: Apache-2.0
// Unit tests of the blocking client's connect, against a real listening Unix socket.
#include "proto/client.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/c_handle.hpp"
#include "tests/temp_dir.hpp"

namespace latchkey::proto {
namespace {

using namespace std::chrono_literals;

sockaddr_un address_of(const std::string& path)
{
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
    return a;
}

TEST(Client, AFullBacklogIsWaitedForNotTakenForAConnection)
{
    // A flooded daemon's backlog is full: connect() says EAGAIN and the socket is not
    // connecting. The client once went on, read SO_PEERCRED of nobody (uid 4294967295) and
    // called the daemon untrusted; it must wait for room until its deadline instead.
    test_support::TempDir dir;
    const std::string path = dir.file("s.sock");
    core::UniqueFd server(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const auto addr = address_of(path);
    ASSERT_EQ(::bind(server.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(server.get(), 0), 0);
    std::vector<core::UniqueFd> fillers;
    bool full = false;
    for (int i = 0; i < 64 && !full; ++i) {
        core::UniqueFd f(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        if (::connect(f.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0)
            fillers.push_back(std::move(f));
        else
            full = errno == EAGAIN;
    }
    ASSERT_TRUE(full) << "the backlog never filled";

    const ClientOptions busy{path, 300ms, {::geteuid()}};
    const auto start = std::chrono::steady_clock::now();
    const auto refused = Client::connect(busy);
    ASSERT_FALSE(refused);
    EXPECT_TRUE(refused.error().is(core::Errc::daemon_timeout)) << refused.error().message;
    EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms);

    // The daemon drains its backlog a moment later: the client gets in.
    std::thread drain([&] {
        std::this_thread::sleep_for(100ms);
        for (std::size_t i = 0; i <= fillers.size(); ++i)
            core::UniqueFd accepted(::accept4(server.get(), nullptr, nullptr, SOCK_CLOEXEC));
    });
    const auto connected = Client::connect({path, 5s, {::geteuid()}});
    drain.join();
    EXPECT_TRUE(connected) << connected.error().message;
}

} // namespace
} // namespace latchkey::proto
