// SPDX-License-Identifier: Apache-2.0
// Unit tests of what administrators see of passkeys and how they remove one, on a real SQLite
// file.
#include "credentials/passkeys.hpp"

#include <algorithm>

#include <gtest/gtest.h>

#include "tests/directory/directory_fixture.hpp"

namespace latchkey::credentials {
namespace {

class PasskeysTest : public directory::DirectoryFixture {
protected:
    void SetUp() override
    {
        DirectoryFixture::SetUp();
        auto alice = directory_->create_user({{"alice", "web"}, std::nullopt, true}, admin_);
        ASSERT_TRUE(alice);
        alice_id_ = alice->id;
    }

    directory::PasskeyRecord passkey(std::string id, std::string credential, std::int64_t at)
    {
        directory::PasskeyRecord p;
        p.id = std::move(id);
        p.user_id = alice_id_;
        p.credential_id = std::move(credential);
        p.public_key = "cose";
        p.algorithm = -8;
        p.aaguid =
            std::string("\xad\xce\x00\x02\x35\xbc\xc6\x0a\x64\x8b\x0b\x25\xf1\xf0\x55\x03", 16);
        p.transports = {"internal", "hybrid"};
        p.backup_eligible = true;
        p.backed_up = true;
        p.attestation = "none";
        p.name = "Phone";
        p.created_at = core::from_unix(at);
        return p;
    }

    std::string alice_id_;
    const proto::UserRef alice_{"alice", "web"};
};

TEST_F(PasskeysTest, ListsWhatAnAdministratorMayKnow)
{
    Passkeys passkeys(*store_, *directory_, *audit_);
    EXPECT_TRUE(passkeys.list(alice_).value().empty());
    ASSERT_TRUE(store_->add_passkey(passkey("pk-1", "cred-1", 1'800'000'000), 10));
    ASSERT_TRUE(store_->use_passkey("pk-1", 0, 3, true, core::from_unix(1'800'000'500)).value());
    const auto list = passkeys.list(alice_);
    ASSERT_TRUE(list) << list.error().message;
    ASSERT_EQ(list->size(), 1U);
    const auto& p = list->front();
    EXPECT_EQ(p.id, "pk-1");
    EXPECT_EQ(p.user, "alice@web.example.internal");
    EXPECT_EQ(p.name, "Phone");
    EXPECT_EQ(p.algorithm, "EdDSA");
    EXPECT_EQ(p.aaguid, "adce0002-35bc-c60a-648b-0b25f1f05503");
    EXPECT_EQ(p.transports, (std::vector<std::string>{"internal", "hybrid"}));
    EXPECT_TRUE(p.synced);
    EXPECT_TRUE(p.backed_up);
    EXPECT_EQ(p.created_at, 1'800'000'000);
    EXPECT_EQ(p.last_used_at, 1'800'000'500);
    EXPECT_TRUE(passkeys.list({"nobody", "web"}).error().is(core::Errc::not_found));
}

TEST_F(PasskeysTest, RemovesOneAndAuditsIt)
{
    Passkeys passkeys(*store_, *directory_, *audit_);
    ASSERT_TRUE(store_->add_passkey(passkey("pk-1", "cred-1", 1'800'000'000), 10));
    ASSERT_TRUE(store_->add_passkey(passkey("pk-2", "cred-2", 1'800'000'001), 10));
    ASSERT_TRUE(passkeys.remove(alice_, "pk-1", admin_));
    EXPECT_TRUE(passkeys.remove(alice_, "pk-1", admin_).error().is(core::Errc::not_found));
    ASSERT_EQ(passkeys.list(alice_)->size(), 1U);
    directory::AuditQuery q;
    q.limit = 5;
    const auto events = store_->audit(q);
    ASSERT_TRUE(events);
    const auto removed = std::find_if(events->begin(), events->end(),
                                      [](const auto& e) { return e.event == "passkey.remove"; });
    ASSERT_NE(removed, events->end());
    EXPECT_EQ(removed->fields.at("passkey"), "pk-1");
    EXPECT_EQ(removed->fields.at("name"), "Phone");
    EXPECT_EQ(removed->fields.at("user"), "alice@web.example.internal");
    EXPECT_EQ(removed->fields.at("actor"), "uid:0");
}

} // namespace
} // namespace latchkey::credentials
