// SPDX-License-Identifier: Apache-2.0
// The Store contract for passkeys and user handles, on every engine.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "tests/storage/engines.hpp"
#include "tests/storage/store_fixture.hpp"

namespace latchkey::store_test {
namespace {

class PasskeysTest : public StoreTest {
protected:
    void SetUp() override
    {
        StoreTest::SetUp();
        for (const char* id : {"u1", "u2"}) {
            directory::UserRecord u;
            u.id = id;
            u.account_id = "acc-mgmt";
            u.name = std::string("user-") + id;
            u.created_at = t0;
            ASSERT_TRUE(store_->create_user(u));
        }
    }

    static directory::PasskeyRecord
    passkey(std::string id, std::string user, std::string credential, std::int64_t created = 0)
    {
        directory::PasskeyRecord p;
        p.id = std::move(id);
        p.user_id = std::move(user);
        p.credential_id = std::move(credential);
        p.public_key = std::string("\xa5\x01\x02\x03\x26", 5) + std::string(64, '\x01');
        p.algorithm = -7;
        p.sign_count = 5;
        p.aaguid =
            std::string("\xf8\xa0\x11\xf3\x8c\x0a\x4d\x15\x80\x06\x17\x11\x1f\x9e\xdc\x7d", 16);
        p.transports = {"usb", "nfc"};
        p.backup_eligible = true;
        p.user_verified = true;
        p.attestation = "packed";
        p.name = "YubiKey";
        p.created_at = t0 + std::chrono::seconds(created);
        return p;
    }
};

TEST_P(PasskeysTest, StoresAndReadsBackEveryField)
{
    const auto p = passkey("pk-1", "u1", std::string("\x00\xff id", 5));
    ASSERT_TRUE(store_->add_passkey(p, 10));
    open_store(); // from the database, not from a cache
    const auto got = store_->passkey_by_credential(p.credential_id);
    ASSERT_TRUE(got);
    ASSERT_TRUE(got->has_value());
    const auto& g = **got;
    EXPECT_EQ(g.id, "pk-1");
    EXPECT_EQ(g.user_id, "u1");
    EXPECT_EQ(g.credential_id, p.credential_id);
    EXPECT_EQ(g.public_key, p.public_key);
    EXPECT_EQ(g.algorithm, -7);
    EXPECT_EQ(g.sign_count, 5U);
    EXPECT_EQ(g.aaguid, p.aaguid);
    EXPECT_EQ(g.transports, p.transports);
    EXPECT_TRUE(g.backup_eligible);
    EXPECT_FALSE(g.backed_up);
    EXPECT_TRUE(g.user_verified);
    EXPECT_EQ(g.attestation, "packed");
    EXPECT_EQ(g.name, "YubiKey");
    EXPECT_EQ(g.created_at, t0);
    EXPECT_FALSE(g.last_used_at);
    EXPECT_FALSE(store_->passkey_by_credential("other")->has_value());
}

TEST_P(PasskeysTest, KeepsSeveralPerUserUpToTheLimitAndCredentialIdsUnique)
{
    ASSERT_TRUE(store_->add_passkey(passkey("pk-1", "u1", "cred-1", 2), 3));
    ASSERT_TRUE(store_->add_passkey(passkey("pk-2", "u1", "cred-2", 1), 3));
    ASSERT_TRUE(store_->add_passkey(passkey("pk-3", "u1", "cred-3", 3), 3));
    const auto full = store_->add_passkey(passkey("pk-4", "u1", "cred-4"), 3);
    ASSERT_FALSE(full);
    EXPECT_TRUE(full.error().is(Errc::policy_violation));
    // The same authenticator credential cannot be registered twice, to anyone.
    const auto twice = store_->add_passkey(passkey("pk-5", "u2", "cred-1"), 3);
    ASSERT_FALSE(twice);
    EXPECT_TRUE(twice.error().is(Errc::already_exists));
    const auto nobody = store_->add_passkey(passkey("pk-6", "u9", "cred-6"), 3);
    ASSERT_FALSE(nobody);
    EXPECT_TRUE(nobody.error().is(Errc::not_found));

    const auto list = store_->passkeys("u1");
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 3U);
    EXPECT_EQ((*list)[0].id, "pk-2"); // oldest first
    EXPECT_EQ((*list)[2].id, "pk-3");
    EXPECT_TRUE(store_->passkeys("u2")->empty());
}

TEST_P(PasskeysTest, RefusesRecordsThatCannotBeAPasskey)
{
    auto p = passkey("pk-1", "u1", "");
    EXPECT_TRUE(store_->add_passkey(p, 10).error().is(Errc::invalid_argument));
    p = passkey("pk-1", "u1", std::string(1024, 'c'));
    EXPECT_TRUE(store_->add_passkey(p, 10).error().is(Errc::invalid_argument));
    p = passkey("pk-1", "u1", "cred");
    p.aaguid = "short";
    EXPECT_TRUE(store_->add_passkey(p, 10).error().is(Errc::invalid_argument));
    p = passkey("pk-1", "u1", "cred");
    p.name.clear();
    EXPECT_TRUE(store_->add_passkey(p, 10).error().is(Errc::invalid_argument));
    p = passkey("pk-1", "u1", std::string(1023, 'c'));
    EXPECT_TRUE(store_->add_passkey(p, 10));
}

TEST_P(PasskeysTest, RenamesAndRemovesOnlyTheUsersOwn)
{
    ASSERT_TRUE(store_->add_passkey(passkey("pk-1", "u1", "cred-1"), 10));
    EXPECT_TRUE(store_->rename_passkey("u2", "pk-1", "Mine").error().is(Errc::not_found));
    EXPECT_TRUE(store_->rename_passkey("u1", "pk-1", "").error().is(Errc::invalid_argument));
    ASSERT_TRUE(store_->rename_passkey("u1", "pk-1", "Laptop"));
    EXPECT_EQ(store_->passkeys("u1")->front().name, "Laptop");
    EXPECT_TRUE(store_->remove_passkey("u2", "pk-1").error().is(Errc::not_found));
    ASSERT_TRUE(store_->remove_passkey("u1", "pk-1"));
    EXPECT_TRUE(store_->passkeys("u1")->empty());
    EXPECT_TRUE(store_->remove_passkey("u1", "pk-1").error().is(Errc::not_found));
}

TEST_P(PasskeysTest, UsesAPasskeyOnlyFromTheCounterItSaw)
{
    ASSERT_TRUE(store_->add_passkey(passkey("pk-1", "u1", "cred-1"), 10));
    const auto at = t0 + std::chrono::hours(1);
    EXPECT_TRUE(store_->use_passkey("pk-1", 5, 6, true, at).value());
    // A second sign-in that read counter 5 too (a cloned authenticator racing) loses.
    EXPECT_FALSE(store_->use_passkey("pk-1", 5, 7, true, at).value());
    EXPECT_FALSE(store_->use_passkey("pk-gone", 0, 1, false, at).value());
    const auto p = store_->passkeys("u1")->front();
    EXPECT_EQ(p.sign_count, 6U);
    EXPECT_TRUE(p.backed_up);
    EXPECT_EQ(p.last_used_at, at);
    EXPECT_TRUE(store_->use_passkey("pk-1", 6, 4294967295U, true, at).value());
    EXPECT_EQ(store_->passkeys("u1")->front().sign_count, 4294967295U);
}

TEST_P(PasskeysTest, GivesEachUserOneHandleForLife)
{
    const std::string a(32, 'a');
    const std::string b(32, 'b');
    EXPECT_EQ(store_->user_handle("u1", a).value(), a);
    EXPECT_EQ(store_->user_handle("u1", b).value(), a); // the stored one, not the new candidate
    EXPECT_EQ(store_->user_handle("u2", b).value(), b);
    EXPECT_EQ(store_->user_by_handle(a).value(), "u1");
    EXPECT_EQ(store_->user_by_handle(b).value(), "u2");
    EXPECT_FALSE(store_->user_by_handle(std::string(32, 'c')).value());
    EXPECT_TRUE(store_->user_handle("u9", std::string(32, 'z')).error().is(Errc::not_found));
    // Two users never share a handle.
    ASSERT_TRUE(store_->delete_user("u2"));
    directory::UserRecord u;
    u.id = "u3";
    u.account_id = "acc-mgmt";
    u.name = "user-u3";
    u.created_at = t0;
    ASSERT_TRUE(store_->create_user(u));
    EXPECT_TRUE(store_->user_handle("u3", a).error().is(Errc::already_exists));
}

TEST_P(PasskeysTest, GoWithTheUserAndWithItsCredentials)
{
    ASSERT_TRUE(store_->add_passkey(passkey("pk-1", "u1", "cred-1"), 10));
    ASSERT_TRUE(store_->add_passkey(passkey("pk-2", "u2", "cred-2"), 10));
    ASSERT_TRUE(store_->user_handle("u1", std::string(32, 'a')));
    ASSERT_TRUE(store_->clear_credentials("u1"));
    EXPECT_TRUE(store_->passkeys("u1")->empty());
    EXPECT_EQ(store_->passkeys("u2")->size(), 1U);
    ASSERT_TRUE(store_->delete_user("u2"));
    EXPECT_FALSE(store_->passkey_by_credential("cred-2")->has_value());
    EXPECT_TRUE(store_->delete_user("u1"));
    EXPECT_FALSE(store_->user_by_handle(std::string(32, 'a')).value());
}

} // namespace

INSTANTIATE_TEST_SUITE_P(Engines, PasskeysTest, ::testing::ValuesIn(engines()), engine_name);

} // namespace latchkey::store_test
