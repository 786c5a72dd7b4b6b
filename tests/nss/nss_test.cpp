// SPDX-License-Identifier: Apache-2.0
// The host's directory users from end to end, in one process: a real SQLite directory,
// HostUsers, the daemon's NSS socket (UnixServer on a temporary path) and its cache files,
// read by libnss_latchkey's lookups (nss_module/lookup.hpp) as the module does.
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include "core/files.hpp"
#include "daemon/listen.hpp"
#include "daemon/local_names.hpp"
#include "daemon/nss_cache.hpp"
#include "daemon/nss_service.hpp"
#include "directory/host_users.hpp"
#include "nss_module/lookup.hpp"
#include "proto/client.hpp"
#include "proto/nss.hpp"
#include "tests/directory/directory_fixture.hpp"

namespace latchkey::directory {
namespace {

using proto::NssQuery;

class NssTest : public DirectoryFixture {
protected:
    void SetUp() override
    {
        DirectoryFixture::SetUp();
        directory_->set_unix({{200000, 200099}, "/home/%u", "/bin/bash", "latchkey-sudo"});
        local_ = std::make_shared<LocalNames>();
        local_->users = {"root", "daemon", "carol"};
        local_->uids = {0, 1, 1000};
        local_->groups = {"root", "sudo"};
        local_->gids = {0, 27};
        users_ = std::make_unique<HostUsers>(*store_, *directory_, [this] { return local_; });
        ASSERT_TRUE(users_->prepare());
        make("alice", "Alice Example");
        make("bob", "Bob: the builder");
        make("carol", "Carol (local too)");
        grant_admin("alice");
        sources_ = {tmp_.file("nss.sock"), tmp_.file("cache"), std::chrono::milliseconds(2000),
                    {::getuid()}};
    }

    void TearDown() override { stop_daemon(); }

    void make(const std::string& name, const std::string& display)
    {
        ASSERT_TRUE(directory_->create_user({{name, std::string("web")}, display, true}, admin_));
    }

    void grant_admin(const std::string& name)
    {
        const auto u = directory_->resolve({name, std::string("web")}).value();
        ASSERT_TRUE(store_->grant_role({u.user.id, Role::account_admin, clock_.now(), "uid:0", {}}));
    }

    proto::NssReply ask(NssQuery q, std::string name, std::uint32_t id = 0)
    {
        auto r = users_->lookup({q, std::move(name), id});
        EXPECT_TRUE(r) << r.error().message;
        return r ? *r : proto::NssReply{};
    }

    void start_daemon()
    {
        auto fd = daemon::bind_unix(sources_.socket_path, 0666, std::nullopt);
        ASSERT_TRUE(fd) << fd.error().message;
        server_ = std::make_unique<daemon::UnixServer>(io_, daemon::ServerLimits{});
        ASSERT_TRUE(server_->listen(std::move(*fd), "nss", daemon::nss_connections(*users_),
                                    [](const daemon::Peer&) { return false; }, work_, work_));
        io_thread_ = std::thread([this] { io_.run(); });
    }

    void stop_daemon()
    {
        if (!server_)
            return;
        boost::asio::post(io_, [this] { server_->stop(); });
        io_thread_.join();
        server_.reset();
        ::unlink(sources_.socket_path.c_str());
    }

    std::shared_ptr<LocalNames> local_;
    std::unique_ptr<HostUsers> users_;
    nss::Sources sources_;
    boost::asio::io_context io_;
    daemon::WorkPool work_{2};
    std::unique_ptr<daemon::UnixServer> server_;
    std::thread io_thread_;
};

TEST_F(NssTest, UsersOfTheHostsAccountArePasswdEntries)
{
    const auto alice = ask(NssQuery::user_by_name, "alice").user;
    ASSERT_TRUE(alice);
    EXPECT_EQ(alice->uid, 200001U) << "200000 went to the sudo group first";
    EXPECT_EQ(alice->gid, alice->uid);
    EXPECT_EQ(alice->gecos, "Alice Example");
    EXPECT_EQ(alice->home, "/home/alice");
    EXPECT_EQ(alice->shell, "/bin/bash");
    EXPECT_EQ(ask(NssQuery::user_by_uid, "", 200001).user->name, "alice");
    // A display name cannot break the passwd line.
    EXPECT_EQ(ask(NssQuery::user_by_name, "bob").user->gecos, "Bob  the builder");
    // Its own group, of the same number.
    const auto group = ask(NssQuery::group_by_gid, "", 200001).group;
    ASSERT_TRUE(group);
    EXPECT_EQ(group->name, "alice");
    EXPECT_TRUE(group->members.empty());
    EXPECT_EQ(ask(NssQuery::group_by_name, "alice").group->gid, 200001U);
}

TEST_F(NssTest, NeverAnswersForTheHostsOwnNamesRootOrOtherAccounts)
{
    // carol exists in /etc/passwd: `files` owns the name, whatever the directory holds.
    EXPECT_FALSE(ask(NssQuery::user_by_name, "carol").user);
    EXPECT_FALSE(ask(NssQuery::user_by_name, "root").user);
    EXPECT_FALSE(ask(NssQuery::user_by_uid, "", 0).user);
    EXPECT_FALSE(ask(NssQuery::group_by_name, "sudo").group);
    EXPECT_FALSE(ask(NssQuery::user_by_name, "nobody-here").user);
    EXPECT_FALSE(ask(NssQuery::user_by_name, "../etc").user);
    // A user of another account is no user of this host.
    ASSERT_TRUE(directory_->create_account({"db", AccountKind::resource}, admin_));
    ASSERT_TRUE(directory_->create_user({{"dave", std::string("db")}, std::nullopt, true}, admin_));
    const auto dave = directory_->resolve({"dave", std::string("db")}).value();
    EXPECT_FALSE(ask(NssQuery::user_by_name, "dave").user);
    EXPECT_FALSE(ask(NssQuery::user_by_uid, "", *dave.user.uid).user);
    // A host bound to no account has no directory users.
    directory_->set_host_account("");
    EXPECT_FALSE(ask(NssQuery::user_by_name, "alice").user);
}

TEST_F(NssTest, AdministratorsAreMembersOfTheSudoGroup)
{
    const auto sudo = ask(NssQuery::group_by_name, "latchkey-sudo").group;
    ASSERT_TRUE(sudo);
    EXPECT_EQ(sudo->gid, 200000U);
    EXPECT_EQ(sudo->members, std::vector<std::string>{"alice"});
    EXPECT_EQ(ask(NssQuery::group_by_gid, "", 200000).group->name, "latchkey-sudo");
    EXPECT_EQ(ask(NssQuery::groups_of, "alice").gids, std::vector<std::uint32_t>{200000});
    EXPECT_TRUE(ask(NssQuery::groups_of, "bob").gids.empty());
    // A role its holder revoked from itself is no membership.
    const auto alice = directory_->resolve({"alice", std::string("web")}).value();
    ASSERT_TRUE(store_->revoke_role(alice.user.id, Role::account_admin, clock_.now()));
    EXPECT_TRUE(ask(NssQuery::group_by_name, "latchkey-sudo").group->members.empty());
    // The gid stays the group's across restarts.
    HostUsers again(*store_, *directory_, [this] { return local_; });
    ASSERT_TRUE(again.prepare());
    EXPECT_EQ(again.lookup({NssQuery::group_by_name, "latchkey-sudo", 0}).value().group->gid,
              200000U);
}

TEST_F(NssTest, TheModuleAsksTheDaemonsSocket)
{
    start_daemon();
    const auto alice = nss::user_by_name(sources_, "alice");
    ASSERT_EQ(alice.status, nss::Status::success);
    EXPECT_EQ(alice.entry->uid, 200001U);
    EXPECT_EQ(nss::user_by_uid(sources_, 200002).entry->name, "bob");
    EXPECT_EQ(nss::user_by_name(sources_, "carol").status, nss::Status::not_found);
    EXPECT_EQ(nss::user_by_name(sources_, "root").status, nss::Status::not_found);
    EXPECT_EQ(nss::user_by_uid(sources_, 0).status, nss::Status::not_found);
    EXPECT_EQ(nss::group_by_name(sources_, "latchkey-sudo").entry->members,
              std::vector<std::string>{"alice"});
    EXPECT_EQ(nss::group_by_gid(sources_, 200002).entry->name, "bob");
    EXPECT_EQ(nss::groups_of(sources_, "alice").entry, std::vector<std::uint32_t>{200000});
    EXPECT_EQ(nss::groups_of(sources_, "bob").status, nss::Status::not_found);

    // The NSS socket only looks up.
    proto::ClientOptions o{sources_.socket_path, std::chrono::milliseconds(2000), {}};
    auto client = proto::Client::connect(o);
    ASSERT_TRUE(client);
    const auto refused = client->call(proto::UserDelete{{"alice", std::string("web")}});
    ASSERT_TRUE(refused);
    ASSERT_TRUE(std::holds_alternative<proto::Failure>(*refused));
    EXPECT_TRUE(directory_->resolve({"alice", std::string("web")}));
}

TEST_F(NssTest, LookupsFromManyThreadsAtOnceEachGetTheirOwnAnswer)
{
    // glibc may call the module from every thread of a program at once: it keeps no state.
    start_daemon();
    std::atomic<int> right{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 50; ++i) {
                const bool odd = (t + i) % 2 == 1;
                const auto f = nss::user_by_name(sources_, odd ? "alice" : "bob");
                if (f.status == nss::Status::success &&
                    f.entry->uid == (odd ? 200001U : 200002U))
                    ++right;
            }
        });
    for (auto& t : threads)
        t.join();
    EXPECT_EQ(right.load(), 400);
}

TEST_F(NssTest, WithoutTheDaemonTheCacheAnswersAndWithoutEitherNothingDoes)
{
    // Neither: unavailable (the next source in nsswitch.conf answers).
    EXPECT_EQ(nss::user_by_name(sources_, "alice").status, nss::Status::unavailable);
    EXPECT_EQ(nss::groups_of(sources_, "alice").status, nss::Status::unavailable);

    daemon::NssCache cache(*users_, sources_.cache_dir);
    ASSERT_TRUE(cache.refresh());
    std::ifstream passwd(sources_.cache_dir + "/passwd");
    std::string text((std::istreambuf_iterator<char>(passwd)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text, "alice:x:200001:200001:Alice Example:/home/alice:/bin/bash\n"
                    "bob:x:200002:200002:Bob  the builder:/home/bob:/bin/bash\n");
    std::ifstream group(sources_.cache_dir + "/group");
    std::string groups((std::istreambuf_iterator<char>(group)), std::istreambuf_iterator<char>());
    EXPECT_EQ(groups, "alice:x:200001:\nbob:x:200002:\nlatchkey-sudo:x:200000:alice\n");

    const auto alice = nss::user_by_name(sources_, "alice");
    ASSERT_EQ(alice.status, nss::Status::success);
    EXPECT_EQ(alice.entry->home, "/home/alice");
    EXPECT_EQ(nss::user_by_uid(sources_, 200002).entry->name, "bob");
    EXPECT_EQ(nss::user_by_name(sources_, "nobody-here").status, nss::Status::not_found);
    EXPECT_EQ(nss::group_by_name(sources_, "latchkey-sudo").entry->members,
              std::vector<std::string>{"alice"});
    EXPECT_EQ(nss::groups_of(sources_, "alice").entry, std::vector<std::uint32_t>{200000});

    // A change reaches the cache at the next refresh; an unchanged directory is not rewritten.
    ASSERT_TRUE(directory_->set_unix({{"alice", std::string("web")}, proto::UnixAttribute::shell,
                                      std::string("/bin/zsh")},
                                     admin_));
    ASSERT_TRUE(cache.refresh());
    EXPECT_EQ(nss::user_by_name(sources_, "alice").entry->shell, "/bin/zsh");
}

TEST_F(NssTest, ACacheEntryForRootOrASystemUserIsNeverBelieved)
{
    ASSERT_TRUE(core::make_dirs(sources_.cache_dir, 0755));
    std::ofstream(sources_.cache_dir + "/passwd")
        << "evil:x:0:0::/root:/bin/bash\nsys:x:999:999::/:/bin/sh\nok:x:200005:200005::/home/ok:/bin/sh\n";
    std::ofstream(sources_.cache_dir + "/group") << "wheel:x:0:evil\nok:x:200005:\n";
    EXPECT_EQ(nss::user_by_name(sources_, "evil").status, nss::Status::not_found);
    EXPECT_EQ(nss::user_by_uid(sources_, 0).status, nss::Status::not_found);
    EXPECT_EQ(nss::user_by_name(sources_, "sys").status, nss::Status::not_found);
    EXPECT_EQ(nss::group_by_name(sources_, "wheel").status, nss::Status::not_found);
    EXPECT_EQ(nss::groups_of(sources_, "evil").status, nss::Status::not_found);
    EXPECT_EQ(nss::user_by_name(sources_, "ok").status, nss::Status::success);
}

TEST_F(NssTest, LocalNamesComeFromTheFilesAndFollowTheirChanges)
{
    const std::string passwd = tmp_.file("passwd");
    const std::string group = tmp_.file("group");
    std::ofstream(passwd) << "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n";
    std::ofstream(group) << "root:x:0:\n";
    daemon::LocalNamesFiles files(passwd, group);
    auto names = files.current();
    EXPECT_TRUE(names->users.contains("alice"));
    EXPECT_TRUE(names->uids.contains(1000));
    EXPECT_TRUE(names->groups.contains("root"));
    EXPECT_EQ(files.current(), names) << "unchanged files are not read again";
    std::ofstream(passwd, std::ios::app) << "bob:x:1001:1001::/home/bob:/bin/sh\n";
    EXPECT_TRUE(files.current()->users.contains("bob"));

    HostUsers users(*store_, *directory_, files.source());
    ASSERT_TRUE(users.prepare());
    // alice and bob are the host's own now; carol is not in these files.
    EXPECT_FALSE(users.lookup({NssQuery::user_by_name, "alice", 0}).value().user);
    EXPECT_FALSE(users.lookup({NssQuery::user_by_name, "bob", 0}).value().user);
    EXPECT_TRUE(users.lookup({NssQuery::user_by_name, "carol", 0}).value().user);
}

TEST_F(NssTest, SkipsEverythingInsideLatchkeyd)
{
    start_daemon();
    ::setenv(proto::nss_off_variable, "1", 1);
    const auto r = nss::user_by_name(sources_, "alice");
    ::unsetenv(proto::nss_off_variable);
    EXPECT_EQ(r.status, nss::Status::unavailable);
    EXPECT_EQ(nss::user_by_name(sources_, "alice").status, nss::Status::success);
}

} // namespace
} // namespace latchkey::directory
