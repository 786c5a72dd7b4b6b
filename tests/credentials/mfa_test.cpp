// SPDX-License-Identifier: Apache-2.0
// Unit tests of second factors: the store's devices and recovery codes, enrolment, code checks
// and the logon dialogue with MFA, on a real SQLite file with a controlled clock.
#include "credentials/mfa.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <pwd.h>
#include <unistd.h>

#include <sqlite3.h>

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "core/secret.hpp"
#include "credentials/auth_engine.hpp"
#include "credentials/secret_box.hpp"
#include "credentials/totp.hpp"
#include "tests/directory/directory_fixture.hpp"

namespace latchkey::credentials {
namespace {

using core::Errc;
using core::Secret;
using proto::Outcome;
using proto::PromptKind;

constexpr auto step = std::chrono::seconds(30);
constexpr std::string_view alice_password = "Alice-Passw0rd";
constexpr std::string_view recovery_alphabet = "abcdefghjkmnpqrstuvwxyz23456789";

/// Whether `r` failed with `e`; says what happened instead when not.
template <class R>
::testing::AssertionResult fails_with(const R& r, Errc e)
{
    if (r)
        return ::testing::AssertionFailure() << "succeeded";
    if (!r.error().is(e))
        return ::testing::AssertionFailure()
               << "failed with code " << r.error().code.value() << ": " << r.error().message;
    return ::testing::AssertionSuccess();
}

/// "xxxx-xxxx-xxxx" from the unambiguous alphabet.
bool looks_like_recovery_code(std::string_view c)
{
    if (c.size() != 14)
        return false;
    for (std::size_t i = 0; i < c.size(); ++i) {
        const bool ok = (i == 4 || i == 9) ? c[i] == '-'
                                           : recovery_alphabet.find(c[i]) != std::string_view::npos;
        if (!ok)
            return false;
    }
    return true;
}

std::string upper(std::string_view s)
{
    std::string out(s);
    for (auto& c : out)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::string without_dashes(std::string_view s)
{
    std::string out(s);
    std::erase(out, '-');
    return out;
}

std::string percent_decode(std::string_view s)
{
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        unsigned value = 0;
        if (s[i] == '%' && i + 2 < s.size() &&
            std::from_chars(s.data() + i + 1, s.data() + i + 3, value, 16).ptr ==
                s.data() + i + 3) {
            out.push_back(static_cast<char>(value));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

/// The value of `name` in the query of `uri`, or nullopt.
std::optional<std::string> query_param(std::string_view uri, std::string_view name)
{
    const auto q = uri.find('?');
    if (q == std::string_view::npos)
        return std::nullopt;
    std::string_view rest = uri.substr(q + 1);
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const std::string_view pair = rest.substr(0, amp);
        const auto eq = pair.find('=');
        if (eq != std::string_view::npos && pair.substr(0, eq) == name)
            return std::string(pair.substr(eq + 1));
        if (amp == std::string_view::npos)
            break;
        rest.remove_prefix(amp + 1);
    }
    return std::nullopt;
}

const char* name_of(CodeCheck c)
{
    switch (c) {
    case CodeCheck::totp: return "totp";
    case CodeCheck::recovery: return "recovery";
    case CodeCheck::wrong: return "wrong";
    case CodeCheck::replayed: return "replayed";
    }
    return "?";
}

/// The uid and name a self-service enrolment test runs as: the user running the tests, or
/// "nobody" when that is root (which can never be a latchkey user).
struct SelfUser {
    uid_t uid;
    std::string name;
};

std::optional<SelfUser> self_user()
{
    const struct passwd* pw = ::getpwuid(::getuid());
    if (pw != nullptr && std::string_view(pw->pw_name) != "root")
        return SelfUser{pw->pw_uid, pw->pw_name};
    pw = ::getpwnam("nobody");
    if (pw == nullptr)
        return std::nullopt;
    return SelfUser{pw->pw_uid, pw->pw_name};
}

/// What a logon dialogue showed and decided.
struct LogonRun {
    proto::Verdict verdict;
    std::vector<PromptKind> prompts;
    std::vector<std::string> prompt_texts;
    std::vector<proto::Message> messages;      ///< every message, in order
    std::vector<proto::Message> last_messages; ///< those that came with the verdict
};

class MfaTest : public directory::DirectoryFixture {
protected:
    void SetUp() override
    {
        directory::DirectoryFixture::SetUp();
        auto box = SecretBox::from_key(Secret(key_));
        ASSERT_TRUE(box) << box.error().message;
        box_ = std::make_unique<SecretBox>(std::move(*box));
        mfa_ = std::make_unique<Mfa>(*store_, *box_, *audit_, clock_, TotpParams{});
        engine_ = std::make_unique<AuthEngine>(*store_, *directory_, hasher_, *mfa_, *audit_,
                                               clock_);
        add_user("alice", alice_password);
    }

    void add_user(const std::string& name, std::string_view pw, const std::string& account = "web")
    {
        ASSERT_TRUE(directory_->create_user({{name, account}, std::nullopt, true}, admin_));
        proto::UserSetPassword req;
        req.ref = {name, account};
        req.password = Secret(pw);
        ASSERT_TRUE(passwords_->reset(req, admin_));
    }

    directory::ResolvedUser resolve(const std::string& name = "alice")
    {
        auto r = directory_->resolve({name, std::string("web")});
        EXPECT_TRUE(r) << r.error().message;
        return r ? std::move(*r) : directory::ResolvedUser{};
    }

    void set_settings(std::vector<proto::Assignment> changes)
    {
        proto::SettingsSet req;
        req.account = "web";
        req.changes = std::move(changes);
        const auto r = directory_->set_settings(req, admin_);
        ASSERT_TRUE(r) << r.error().message;
    }

    /// The code of `secret` for the step `k` steps from now.
    std::string code(const Secret& secret, int k = 0) const
    {
        return totp_code(secret, clock_.now() + k * step, TotpParams{});
    }

    std::string code(int k = 0) const { return code(secret_, k); }

    /// Starts an enrolment whose secret gives a different code at each step from 5 before now
    /// to 12 after, so that a "refused" check cannot pass or fail through a chance collision.
    std::optional<PendingEnrolment> start_distinctive(const directory::ResolvedUser& who)
    {
        for (int attempt = 0; attempt < 100; ++attempt) {
            auto pending = mfa_->start(who);
            if (!pending) {
                ADD_FAILURE() << "start: " << pending.error().message;
                return std::nullopt;
            }
            std::set<std::string> codes;
            for (int k = -5; k <= 12; ++k)
                codes.insert(code(pending->secret, k));
            if (codes.size() == 18 && !codes.contains(""))
                return std::move(*pending);
        }
        ADD_FAILURE() << "no secret with distinct codes in 100 attempts";
        return std::nullopt;
    }

    /// Enrols a device for `name`: the first code now, the second 30 s later, where the clock
    /// stays. Keeps the secret in secret_ and the result in enrolled_.
    void enrol(const std::string& name = "alice")
    {
        auto pending = start_distinctive(resolve(name));
        ASSERT_TRUE(pending);
        secret_ = pending->secret.clone();
        enrol_step_ = core::to_unix(clock_.now()) / step.count();
        const auto first = mfa_->accept_first(*pending, Secret(code()), "uid:0");
        ASSERT_TRUE(first) << first.error().message;
        clock_.advance(step);
        auto done = mfa_->accept_second(*pending, Secret(code()), admin_.name);
        ASSERT_TRUE(done) << done.error().message;
        enrolled_ = std::move(*done);
    }

    std::string recovery_code(std::size_t i) const
    {
        return std::string(enrolled_.recovery_codes.at(i).view());
    }

    /// Mfa::check of `answer` for `name`'s stored device, by name ("totp", "wrong", ...).
    std::string check(std::string_view answer,
                      const std::string& name = "alice",
                      Mfa* mfa = nullptr,
                      directory::Store* store = nullptr)
    {
        Mfa& m = mfa != nullptr ? *mfa : *mfa_;
        directory::Store& s = store != nullptr ? *store : *store_;
        const directory::ResolvedUser who = resolve(name);
        const auto device = s.mfa_device(who.user.id);
        if (!device)
            return "error: " + device.error().message;
        if (!*device)
            return "no device";
        const auto r = m.check(who, **device, Secret(answer));
        if (!r)
            return "error: " + r.error().message;
        return name_of(*r);
    }

    /// Runs a logon to its verdict; `answer` gives the answer to each prompt.
    LogonRun run_logon(const std::string& user,
                       const std::function<std::string(const Step&, const LogonRun&)>& answer,
                       bool single_prompt = false, Caller caller = {0, 1, "pam"})
    {
        LogonRun run;
        // Each logon from an address of its own, as from many hosts: these tests are about the
        // user's lock; the throttle of one address is tested in auth_engine_test.cpp.
        LogonRequest req{"sshd", user, "2001:db8::" + std::to_string(++sources_), std::nullopt,
                         false, single_prompt};
        auto started = engine_->begin_logon(req, caller);
        Step s = std::move(started.step);
        for (int i = 0; s.prompt && i < 20; ++i) {
            run.messages.insert(run.messages.end(), s.messages.begin(), s.messages.end());
            run.prompts.push_back(s.prompt->kind);
            run.prompt_texts.push_back(s.prompt->text);
            if (!started.dialogue) {
                ADD_FAILURE() << "a prompt without a dialogue";
                return run;
            }
            if (resume_between_answers_) {
                // As the OIDC pages do when the next request goes to another node: the dialogue
                // saved, and resumed by another engine on the same directory.
                const auto saved = started.dialogue->save();
                if (!saved) {
                    ADD_FAILURE() << "a dialogue at " << s.prompt->text << " did not save";
                    return run;
                }
                auto& other = (i % 2 == 0) ? other_engine() : *engine_;
                auto resumed = other.resume(*saved);
                if (!resumed) {
                    ADD_FAILURE() << "resuming: " << resumed.error().message;
                    return run;
                }
                started.dialogue = std::move(*resumed);
            }
            const std::string a = answer(s, run);
            s = started.dialogue->answer(Secret(a));
        }
        run.messages.insert(run.messages.end(), s.messages.begin(), s.messages.end());
        run.last_messages = s.messages;
        EXPECT_TRUE(s.verdict) << "the dialogue did not end";
        if (s.verdict)
            run.verdict = *s.verdict;
        return run;
    }

    /// Runs a logon answering the prompts in order ("" once they run out).
    LogonRun logon(const std::string& user, std::vector<std::string> answers,
                   bool single_prompt = false)
    {
        std::size_t next = 0;
        return run_logon(
            user,
            [&](const Step&, const LogonRun&) {
                return next < answers.size() ? answers[next++] : std::string();
            },
            single_prompt);
    }

    std::vector<directory::AuditEvent> audit_events(const std::string& event)
    {
        const auto all = store_->audit({});
        EXPECT_TRUE(all) << all.error().message;
        std::vector<directory::AuditEvent> out;
        if (all)
            std::copy_if(all->begin(), all->end(), std::back_inserter(out),
                         [&](const directory::AuditEvent& e) { return e.event == event; });
        return out;
    }

    /// A device record for the store tests, sealed as Mfa seals it.
    directory::MfaDeviceRecord device_for(const std::string& user_id, const Secret& secret)
    {
        directory::MfaDeviceRecord d;
        d.id = core::uuid_v4();
        d.user_id = user_id;
        auto sealed = box_->seal(secret, "totp:" + user_id);
        EXPECT_TRUE(sealed);
        if (sealed)
            d.sealed_secret = std::move(*sealed);
        d.created_at = clock_.now();
        d.last_used_step = 100;
        return d;
    }

    /// One integer from the database file, read over a separate connection.
    std::optional<std::int64_t> raw_int(const std::string& sql)
    {
        const auto rows = raw_texts(sql);
        if (rows.size() != 1)
            return std::nullopt;
        return std::stoll(rows.front());
    }

    /// A column of text from the database file, read over a separate connection.
    std::vector<std::string> raw_texts(const std::string& sql)
    {
        std::vector<std::string> out;
        sqlite3* db = nullptr;
        if (::sqlite3_open_v2(tmp_.file("test.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) !=
            SQLITE_OK) {
            ADD_FAILURE() << "cannot open the database";
            ::sqlite3_close(db);
            return out;
        }
        sqlite3_stmt* stmt = nullptr;
        if (::sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
            ADD_FAILURE() << "cannot prepare " << sql << ": " << ::sqlite3_errmsg(db);
        } else {
            while (::sqlite3_step(stmt) == SQLITE_ROW) {
                const auto* text = ::sqlite3_column_text(stmt, 0);
                out.emplace_back(text == nullptr ? "" : reinterpret_cast<const char*>(text));
            }
        }
        ::sqlite3_finalize(stmt);
        ::sqlite3_close(db);
        return out;
    }

    const std::string key_ = std::string(SecretBox::key_size, 'k');
    std::unique_ptr<SecretBox> box_;
    std::unique_ptr<Mfa> mfa_;
    std::unique_ptr<AuthEngine> engine_;
    /// run_logon() saves the dialogue before each answer and resumes it on the other engine.
    bool resume_between_answers_ = false;
    std::unique_ptr<AuthEngine> other_engine_;

    AuthEngine& other_engine()
    {
        if (!other_engine_)
            other_engine_ =
                std::make_unique<AuthEngine>(*store_, *directory_, hasher_, *mfa_, *audit_, clock_);
        return *other_engine_;
    }
    int sources_ = 0;
    Secret secret_;               ///< of the last enrol()
    std::int64_t enrol_step_ = 0; ///< the step of the first enrolment code
    proto::MfaEnrolled enrolled_;
};

// ---- store ------------------------------------------------------------------------------

TEST_F(MfaTest, StoreRoundTripsADeviceWithItsRecoveryCodes)
{
    const auto alice = resolve();
    const Secret secret = generate_totp_secret();
    const directory::MfaDeviceRecord d = device_for(alice.user.id, secret);
    ASSERT_TRUE(store_->add_mfa_device(d, {"h1", "h2", "h3"}));

    const auto got = store_->mfa_device(alice.user.id);
    ASSERT_TRUE(got) << got.error().message;
    ASSERT_TRUE(*got);
    EXPECT_EQ((*got)->id, d.id);
    EXPECT_EQ((*got)->user_id, alice.user.id);
    EXPECT_EQ((*got)->sealed_secret, d.sealed_secret);
    EXPECT_EQ((*got)->digits, 6u);
    EXPECT_EQ((*got)->period_s, 30u);
    EXPECT_EQ((*got)->created_at, clock_.now());
    EXPECT_EQ((*got)->last_used_step, std::optional<std::int64_t>(100));
    EXPECT_EQ(*store_->recovery_codes_left(alice.user.id), 3u);

    const auto all = store_->mfa_devices();
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 1u);
    EXPECT_EQ(all->front().id, d.id);

    add_user("bob", "Bob-Passw0rd!");
    const auto none = store_->mfa_device(resolve("bob").user.id);
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);
}

TEST_F(MfaTest, StoreRefusesASecondDeviceAndAMissingUser)
{
    const auto alice = resolve();
    const Secret secret = generate_totp_secret();
    ASSERT_TRUE(store_->add_mfa_device(device_for(alice.user.id, secret), {"h1"}));
    EXPECT_TRUE(fails_with(store_->add_mfa_device(device_for(alice.user.id, secret), {"h2"}),
                           Errc::already_exists));
    // The refused device's codes did not replace the first device's.
    EXPECT_EQ(*store_->recovery_codes_left(alice.user.id), 1u);
    EXPECT_TRUE(*store_->use_recovery_code(alice.user.id, "h1", clock_.now()));

    EXPECT_TRUE(fails_with(store_->add_mfa_device(device_for("no-such-user", secret), {}),
                           Errc::not_found));
}

TEST_F(MfaTest, StoreAcceptsOnlyAHigherTotpStep)
{
    const auto alice = resolve();
    const directory::MfaDeviceRecord d =
        device_for(alice.user.id, generate_totp_secret()); // last used 100
    ASSERT_TRUE(store_->add_mfa_device(d, {}));
    EXPECT_TRUE(*store_->use_totp_step(d.id, 101));
    EXPECT_FALSE(*store_->use_totp_step(d.id, 101)); // replay
    EXPECT_FALSE(*store_->use_totp_step(d.id, 100)); // older
    EXPECT_FALSE(*store_->use_totp_step(d.id, 7));
    EXPECT_TRUE(*store_->use_totp_step(d.id, 105));
    EXPECT_FALSE(*store_->use_totp_step(d.id, 104));
    EXPECT_EQ((*store_->mfa_device(alice.user.id))->last_used_step,
              std::optional<std::int64_t>(105));
    EXPECT_FALSE(*store_->use_totp_step("no-such-device", 1000));
}

TEST_F(MfaTest, StoreAcceptsAFirstStepWhenNoneWasUsed)
{
    const auto alice = resolve();
    directory::MfaDeviceRecord d = device_for(alice.user.id, generate_totp_secret());
    d.last_used_step.reset();
    ASSERT_TRUE(store_->add_mfa_device(d, {}));
    EXPECT_FALSE((*store_->mfa_device(alice.user.id))->last_used_step);
    EXPECT_TRUE(*store_->use_totp_step(d.id, 5));
    EXPECT_FALSE(*store_->use_totp_step(d.id, 5));
}

TEST_F(MfaTest, StoreKeepsTheUsedStepAcrossReopening)
{
    const auto alice = resolve();
    const directory::MfaDeviceRecord d = device_for(alice.user.id, generate_totp_secret());
    ASSERT_TRUE(store_->add_mfa_device(d, {}));
    ASSERT_TRUE(*store_->use_totp_step(d.id, 200));

    audit_.reset();
    directory_.reset();
    mfa_.reset();
    engine_.reset();
    store_.reset();
    auto reopened = sqlite::SqliteStore::open(tmp_.file("test.db"));
    ASSERT_TRUE(reopened) << reopened.error().message;
    store_ = std::move(*reopened);

    EXPECT_EQ((*store_->mfa_device(alice.user.id))->last_used_step,
              std::optional<std::int64_t>(200));
    EXPECT_FALSE(*store_->use_totp_step(d.id, 200));
    EXPECT_FALSE(*store_->use_totp_step(d.id, 199));
    EXPECT_TRUE(*store_->use_totp_step(d.id, 201));
}

TEST_F(MfaTest, StoreRecoveryCodesWorkOnceAndAreCounted)
{
    const auto alice = resolve();
    ASSERT_TRUE(store_->add_mfa_device(device_for(alice.user.id, generate_totp_secret()),
                                       {"h1", "h2", "h3"}));
    EXPECT_EQ(*store_->recovery_codes_left(alice.user.id), 3u);
    EXPECT_TRUE(*store_->use_recovery_code(alice.user.id, "h2", clock_.now()));
    EXPECT_FALSE(*store_->use_recovery_code(alice.user.id, "h2", clock_.now()));
    EXPECT_FALSE(*store_->use_recovery_code(alice.user.id, "unknown", clock_.now()));
    EXPECT_EQ(*store_->recovery_codes_left(alice.user.id), 2u);

    // A code is the user's own: another user cannot use alice's hash.
    add_user("bob", "Bob-Passw0rd!");
    EXPECT_FALSE(*store_->use_recovery_code(resolve("bob").user.id, "h1", clock_.now()));
    EXPECT_EQ(*store_->recovery_codes_left(alice.user.id), 2u);
}

TEST_F(MfaTest, StoreReplacingRecoveryCodesVoidsTheOldOnes)
{
    const auto alice = resolve();
    ASSERT_TRUE(store_->add_mfa_device(device_for(alice.user.id, generate_totp_secret()),
                                       {"old1", "old2"}));
    ASSERT_TRUE(*store_->use_recovery_code(alice.user.id, "old1", clock_.now()));
    ASSERT_TRUE(store_->replace_recovery_codes(alice.user.id, {"new1", "new2", "new3"}));
    EXPECT_EQ(*store_->recovery_codes_left(alice.user.id), 3u);
    EXPECT_FALSE(*store_->use_recovery_code(alice.user.id, "old2", clock_.now()));
    EXPECT_TRUE(*store_->use_recovery_code(alice.user.id, "new1", clock_.now()));
    EXPECT_EQ(*store_->recovery_codes_left(alice.user.id), 2u);
    EXPECT_TRUE(fails_with(store_->replace_recovery_codes("no-such-user", {"x"}), Errc::not_found));
}

TEST_F(MfaTest, StoreRemovingADeviceRemovesItsRecoveryCodes)
{
    const auto alice = resolve();
    ASSERT_TRUE(store_->add_mfa_device(device_for(alice.user.id, generate_totp_secret()),
                                       {"h1", "h2"}));
    ASSERT_TRUE(store_->remove_mfa_device(alice.user.id));
    EXPECT_FALSE(*store_->mfa_device(alice.user.id));
    EXPECT_EQ(*store_->recovery_codes_left(alice.user.id), 0u);
    EXPECT_FALSE(*store_->use_recovery_code(alice.user.id, "h1", clock_.now()));
    EXPECT_EQ(raw_int("SELECT count(*) FROM recovery_codes"), 0);
    EXPECT_TRUE(fails_with(store_->remove_mfa_device(alice.user.id), Errc::not_found));
}

TEST_F(MfaTest, StoreDeletingTheUserDeletesItsDeviceAndCodes)
{
    const auto alice = resolve();
    const directory::MfaDeviceRecord d = device_for(alice.user.id, generate_totp_secret());
    ASSERT_TRUE(store_->add_mfa_device(d, {"h1", "h2"}));
    ASSERT_EQ(raw_int("SELECT count(*) FROM mfa_devices"), 1);
    ASSERT_EQ(raw_int("SELECT count(*) FROM recovery_codes"), 2);

    ASSERT_TRUE(directory_->delete_user({"alice", std::string("web")}, admin_));
    EXPECT_FALSE(*store_->mfa_device(alice.user.id));
    EXPECT_TRUE(store_->mfa_devices()->empty());
    EXPECT_EQ(raw_int("SELECT count(*) FROM mfa_devices"), 0);
    EXPECT_EQ(raw_int("SELECT count(*) FROM recovery_codes"), 0);
    EXPECT_FALSE(*store_->use_totp_step(d.id, 1000));
}

TEST_F(MfaTest, StoreKeepsOnlyTheSealedSecret)
{
    ASSERT_NO_FATAL_FAILURE(enrol());
    const auto alice = resolve();
    const auto d = store_->mfa_device(alice.user.id);
    ASSERT_TRUE(d && *d);
    const std::string& sealed = (*d)->sealed_secret;
    EXPECT_EQ(sealed.size(), secret_.size() + SecretBox::overhead);
    EXPECT_EQ(sealed.find(secret_.view()), std::string::npos);
    // Sealed for this user: it opens with the key and the user's context only.
    const auto opened = box_->open_sealed(sealed, "totp:" + alice.user.id);
    ASSERT_TRUE(opened) << opened.error().message;
    EXPECT_TRUE(opened->equals(secret_.view()));
    EXPECT_FALSE(box_->open_sealed(sealed, "totp:someone-else"));

    // And in the file itself: neither the raw secret nor any usual encoding of it.
    const auto column = raw_texts("SELECT sealed_secret FROM mfa_devices");
    ASSERT_EQ(column.size(), 1u);
    EXPECT_EQ(core::base64_decode(column.front()), std::optional<std::string>(sealed));
    for (const std::string& form :
         {std::string(secret_.view()), base32_encode(secret_.view()),
          core::base64_encode(secret_.view(), false, true), core::to_hex(secret_.view())})
        EXPECT_EQ(column.front().find(form), std::string::npos) << form;
}

// ---- enrolment --------------------------------------------------------------------------

TEST_F(MfaTest, ChallengeShowsTheUriKeyAndQrCode)
{
    auto pending = mfa_->start(resolve());
    ASSERT_TRUE(pending) << pending.error().message;
    EXPECT_EQ(pending->secret.size(), 20u); // 160 bits
    const auto c = mfa_->challenge(*pending);
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->user, "alice@web.example.internal");
    EXPECT_EQ(c->digits, 6u);
    EXPECT_EQ(c->period_s, 30u);

    const std::string uri(c->uri.view());
    const std::string prefix = "otpauth://totp/";
    ASSERT_EQ(uri.rfind(prefix, 0), 0u) << uri;
    const std::string label =
        percent_decode(uri.substr(prefix.size(), uri.find('?') - prefix.size()));
    EXPECT_EQ(label, "example.internal:alice@web.example.internal");
    EXPECT_EQ(query_param(uri, "issuer"), std::optional<std::string>("example.internal"));
    EXPECT_EQ(query_param(uri, "digits"), std::optional<std::string>("6"));
    EXPECT_EQ(query_param(uri, "period"), std::optional<std::string>("30"));
    EXPECT_EQ(query_param(uri, "secret"), std::optional<std::string>(c->key.view()));

    const auto key = base32_decode(c->key.view());
    ASSERT_TRUE(key);
    EXPECT_TRUE(pending->secret.equals(*key));

    ASSERT_FALSE(c->qr.empty());
    for (const auto& line : c->qr)
        EXPECT_FALSE(line.empty());
}

TEST_F(MfaTest, EnrolmentTakesTwoConsecutiveCodes)
{
    const auto alice = resolve();
    auto pending = start_distinctive(alice);
    ASSERT_TRUE(pending);
    const Secret secret = pending->secret.clone();
    const std::int64_t first_step = core::to_unix(clock_.now()) / step.count();

    ASSERT_TRUE(mfa_->accept_first(*pending, Secret(code(secret)), "uid:0"));
    EXPECT_EQ(pending->first_step, std::optional<std::int64_t>(first_step));
    EXPECT_FALSE(*store_->mfa_device(alice.user.id)); // nothing stored yet
    clock_.advance(step);
    const auto done = mfa_->accept_second(*pending, Secret(code(secret)), "uid:0");
    ASSERT_TRUE(done) << done.error().message;

    EXPECT_EQ(done->device.user, "alice@web.example.internal");
    EXPECT_EQ(done->device.kind, "totp");
    EXPECT_EQ(done->device.recovery_codes_left, 10u);
    ASSERT_EQ(done->recovery_codes.size(), 10u);
    std::set<std::string> distinct;
    for (const auto& rc : done->recovery_codes) {
        EXPECT_TRUE(looks_like_recovery_code(rc.view())) << rc.view();
        distinct.emplace(rc.view());
    }
    EXPECT_EQ(distinct.size(), 10u);

    const auto d = store_->mfa_device(alice.user.id);
    ASSERT_TRUE(d && *d);
    EXPECT_EQ((*d)->id, done->device.id);
    EXPECT_EQ((*d)->last_used_step, std::optional<std::int64_t>(first_step + 1));
    EXPECT_EQ(*store_->recovery_codes_left(alice.user.id), 10u);
    EXPECT_TRUE(pending->secret.empty()); // the pending copy is wiped
}

TEST_F(MfaTest, ConfirmTakesBothCodesAtOnce)
{
    auto pending = start_distinctive(resolve());
    ASSERT_TRUE(pending);
    const Secret secret = pending->secret.clone();
    clock_.advance(step);
    // The code of the step before, still in the window, and the current one.
    const auto done = mfa_->confirm(*pending, Secret(code(secret, -1)), Secret(code(secret)),
                                    "uid:0");
    ASSERT_TRUE(done) << done.error().message;
    EXPECT_EQ(done->recovery_codes.size(), 10u);
}

TEST_F(MfaTest, EnrolmentRefusesTheSameCodeTwice)
{
    const auto alice = resolve();
    auto pending = start_distinctive(alice);
    ASSERT_TRUE(pending);
    const Secret secret = pending->secret.clone();
    ASSERT_TRUE(mfa_->accept_first(*pending, Secret(code(secret)), "uid:0"));
    EXPECT_TRUE(fails_with(mfa_->accept_second(*pending, Secret(code(secret)), "uid:0"),
                           Errc::invalid_argument));
    // It starts over: a first code is needed again.
    EXPECT_FALSE(pending->first_step);
    clock_.advance(step);
    EXPECT_TRUE(fails_with(mfa_->accept_second(*pending, Secret(code(secret)), "uid:0"),
                           Errc::failed_precondition));
    EXPECT_FALSE(*store_->mfa_device(alice.user.id));
    const auto fails = audit_events("mfa.enroll.fail");
    ASSERT_FALSE(fails.empty());
    EXPECT_EQ(fails.back().fields.at("reason"), "same_code");
    EXPECT_EQ(fails.back().fields.at("user"), "alice");
}

TEST_F(MfaTest, EnrolmentRefusesASecondCodeTwoStepsLater)
{
    const auto alice = resolve();
    auto pending = start_distinctive(alice);
    ASSERT_TRUE(pending);
    const Secret secret = pending->secret.clone();
    ASSERT_TRUE(mfa_->accept_first(*pending, Secret(code(secret)), "uid:0"));
    clock_.advance(2 * step);
    EXPECT_TRUE(fails_with(mfa_->accept_second(*pending, Secret(code(secret)), "uid:0"),
                           Errc::invalid_argument));
    EXPECT_FALSE(*store_->mfa_device(alice.user.id));
    // A fresh pair still works.
    ASSERT_TRUE(mfa_->accept_first(*pending, Secret(code(secret)), "uid:0"));
    clock_.advance(step);
    EXPECT_TRUE(mfa_->accept_second(*pending, Secret(code(secret)), "uid:0"));
}

TEST_F(MfaTest, EnrolmentRefusesAWrongFirstCode)
{
    const auto alice = resolve();
    auto pending = start_distinctive(alice);
    ASSERT_TRUE(pending);
    const Secret secret = pending->secret.clone();
    EXPECT_TRUE(fails_with(mfa_->accept_first(*pending, Secret(code(secret, 5)), "uid:0"),
                           Errc::invalid_argument));
    EXPECT_TRUE(fails_with(mfa_->accept_first(*pending, Secret("12345"), "uid:0"),
                           Errc::invalid_argument));
    EXPECT_TRUE(fails_with(mfa_->accept_first(*pending, Secret("abcdef"), "uid:0"),
                           Errc::invalid_argument));
    EXPECT_FALSE(pending->first_step);
    EXPECT_EQ(pending->wrong_codes, 3u);
    EXPECT_FALSE(*store_->mfa_device(alice.user.id));
}

TEST_F(MfaTest, EnrolmentGivesUpAfterFiveWrongCodes)
{
    auto pending = start_distinctive(resolve());
    ASSERT_TRUE(pending);
    const Secret secret = pending->secret.clone();
    for (int i = 0; i < 5; ++i)
        EXPECT_TRUE(fails_with(mfa_->accept_first(*pending, Secret(code(secret, 5 + i)), "uid:0"),
                               Errc::invalid_argument))
            << "wrong code " << i + 1;
    // Even the right code is refused now.
    EXPECT_TRUE(fails_with(mfa_->accept_first(*pending, Secret(code(secret)), "uid:0"),
                           Errc::failed_precondition));
}

TEST_F(MfaTest, WrongSecondCodesCountTowardGivingUp)
{
    auto pending = start_distinctive(resolve());
    ASSERT_TRUE(pending);
    const Secret secret = pending->secret.clone();
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(mfa_->accept_first(*pending, Secret(code(secret)), "uid:0"));
        EXPECT_TRUE(fails_with(mfa_->accept_second(*pending, Secret(code(secret, 5)), "uid:0"),
                               Errc::invalid_argument));
    }
    EXPECT_TRUE(fails_with(mfa_->accept_first(*pending, Secret(code(secret)), "uid:0"),
                           Errc::failed_precondition));
}

TEST_F(MfaTest, EnrolmentExpiresAfterFifteenMinutes)
{
    auto pending = start_distinctive(resolve());
    ASSERT_TRUE(pending);
    const Secret secret = pending->secret.clone();
    clock_.advance(std::chrono::minutes(16));
    EXPECT_TRUE(fails_with(mfa_->accept_first(*pending, Secret(code(secret)), "uid:0"),
                           Errc::failed_precondition));

    // Also between the two codes.
    auto second = start_distinctive(resolve());
    ASSERT_TRUE(second);
    const Secret secret2 = second->secret.clone();
    clock_.advance(std::chrono::minutes(14) + std::chrono::seconds(50));
    ASSERT_TRUE(mfa_->accept_first(*second, Secret(code(secret2)), "uid:0"));
    clock_.advance(step);
    EXPECT_TRUE(fails_with(mfa_->accept_second(*second, Secret(code(secret2)), "uid:0"),
                           Errc::failed_precondition));
    EXPECT_FALSE(*store_->mfa_device(resolve().user.id));
}

TEST_F(MfaTest, StartRefusesAUserWhoHasADevice)
{
    ASSERT_NO_FATAL_FAILURE(enrol());
    const auto again = mfa_->start(resolve());
    EXPECT_TRUE(fails_with(again, Errc::failed_precondition));
    ASSERT_TRUE(mfa_->remove(resolve(), "uid:0"));
    EXPECT_TRUE(mfa_->start(resolve()));
}

TEST_F(MfaTest, EnrolmentIsAudited)
{
    ASSERT_NO_FATAL_FAILURE(enrol());
    const auto events = audit_events("mfa.enroll");
    ASSERT_EQ(events.size(), 1u);
    const auto& f = events.front().fields;
    EXPECT_EQ(f.at("user"), "alice");
    EXPECT_EQ(f.at("account"), "web");
    EXPECT_EQ(f.at("actor"), admin_.name);
    EXPECT_EQ(f.at("device_id"), enrolled_.device.id);
    // No secret in the trail.
    for (const auto& e : store_->audit({}).value()) {
        for (const auto& [k, v] : e.fields) {
            EXPECT_EQ(v.find(base32_encode(secret_.view())), std::string::npos) << k;
            for (const auto& rc : enrolled_.recovery_codes)
                EXPECT_EQ(v.find(rc.view()), std::string::npos) << k;
        }
    }
}

TEST_F(MfaTest, NewRecoveryCodesVoidTheOldOnes)
{
    ASSERT_NO_FATAL_FAILURE(enrol());
    const std::string old_code = recovery_code(0);
    const auto fresh = mfa_->new_recovery_codes(resolve(), "uid:0");
    ASSERT_TRUE(fresh) << fresh.error().message;
    ASSERT_EQ(fresh->size(), 10u);
    EXPECT_EQ(check(old_code), "wrong");
    EXPECT_EQ(check(fresh->front().view()), "recovery");
}

// ---- checks at logon --------------------------------------------------------------------

TEST_F(MfaTest, CheckAcceptsThePreviousCurrentAndNextStep)
{
    ASSERT_NO_FATAL_FAILURE(enrol()); // steps s and s+1 used; now at s+1
    clock_.advance(2 * step);          // now at s+3
    EXPECT_EQ(check(code(-1)), "totp"); // t - 30 s
    EXPECT_EQ(check(code(0)), "totp");  // t
    EXPECT_EQ(check(code(1)), "totp");  // t + 30 s
    EXPECT_EQ((*store_->mfa_device(resolve().user.id))->last_used_step,
              std::optional<std::int64_t>(enrol_step_ + 4));
}

TEST_F(MfaTest, CheckRefusesCodesTwoStepsAway)
{
    ASSERT_NO_FATAL_FAILURE(enrol());
    clock_.advance(2 * step); // now at s+3
    EXPECT_EQ(check(code(2)), "wrong");  // t + 60 s
    EXPECT_EQ(check(code(-2)), "wrong"); // t - 60 s
    EXPECT_EQ(check(code(0)), "totp");   // nothing was used up
}

TEST_F(MfaTest, CheckRefusesTheSameStepTwice)
{
    ASSERT_NO_FATAL_FAILURE(enrol());
    clock_.advance(2 * step);
    const std::string c = code();
    EXPECT_EQ(check(c), "totp");
    EXPECT_EQ(check(c), "replayed");
    clock_.advance(std::chrono::seconds(20)); // same step, still in the window later on
    EXPECT_EQ(check(c), "replayed");
}

TEST_F(MfaTest, CheckRefusesAStepOlderThanTheLastUsed)
{
    ASSERT_NO_FATAL_FAILURE(enrol());
    clock_.advance(2 * step);
    EXPECT_EQ(check(code(1)), "totp");
    EXPECT_EQ(check(code(0)), "replayed");
    EXPECT_EQ(check(code(-1)), "replayed");
}

TEST_F(MfaTest, CheckRefusesTheEnrolmentCodes)
{
    ASSERT_NO_FATAL_FAILURE(enrol()); // now at s+1, both s and s+1 used
    EXPECT_EQ(check(code(0)), "replayed");
    EXPECT_EQ(check(code(-1)), "replayed");
    EXPECT_EQ(check(code(1)), "totp");
}

TEST_F(MfaTest, RecoveryCodeWorksOnce)
{
    ASSERT_NO_FATAL_FAILURE(enrol());
    EXPECT_EQ(check(recovery_code(0)), "recovery");
    EXPECT_EQ(check(recovery_code(0)), "wrong");
    EXPECT_EQ(*store_->recovery_codes_left(resolve().user.id), 9u);
    const auto used = audit_events("mfa.recovery_code.use");
    ASSERT_EQ(used.size(), 1u);
    EXPECT_EQ(used.front().fields.at("left"), "9");
    EXPECT_EQ(used.front().fields.at("user"), "alice");
}

TEST_F(MfaTest, RecoveryCodesIgnoreCaseAndDashes)
{
    ASSERT_NO_FATAL_FAILURE(enrol());
    EXPECT_EQ(check(upper(recovery_code(1))), "recovery");
    EXPECT_EQ(check(without_dashes(recovery_code(2))), "recovery");
    EXPECT_EQ(check(upper(without_dashes(recovery_code(3)))), "recovery");
    // Each form used its code up.
    EXPECT_EQ(check(recovery_code(1)), "wrong");
    EXPECT_EQ(check(recovery_code(2)), "wrong");
    EXPECT_EQ(check(recovery_code(3)), "wrong");
    EXPECT_EQ(*store_->recovery_codes_left(resolve().user.id), 7u);
}

TEST_F(MfaTest, GarbageIsWrong)
{
    ASSERT_NO_FATAL_FAILURE(enrol());
    clock_.advance(2 * step);
    for (const char* answer : {"", "hello", "12345", "1234567", "12345a", " 123456",
                               "abcd-efgh-jkmn", "abcd-efgh-jkm1", "abcd-efgh-jkmnp",
                               "abcd-efgh"})
        EXPECT_EQ(check(answer), "wrong") << '"' << answer << '"';
    // Nothing was used up by them.
    EXPECT_EQ(*store_->recovery_codes_left(resolve().user.id), 10u);
    EXPECT_EQ(check(code()), "totp");
}

TEST_F(MfaTest, ACodeOfAnotherUsersDeviceIsWrong)
{
    ASSERT_NO_FATAL_FAILURE(enrol("alice"));
    const Secret alice_secret = secret_.clone();
    const std::string alice_recovery = recovery_code(0);
    add_user("bob", "Bob-Passw0rd!");
    ASSERT_NO_FATAL_FAILURE(enrol("bob"));
    clock_.advance(2 * step);
    // Alice's current code is wrong for bob, unless it is one of bob's codes in the window
    // too (about one chance in 300,000).
    const std::string alice_code = code(alice_secret);
    if (alice_code != code(-1) && alice_code != code(0) && alice_code != code(1)) {
        EXPECT_EQ(check(alice_code, "bob"), "wrong");
    }
    EXPECT_EQ(check(alice_recovery, "bob"), "wrong");
    EXPECT_EQ(check(alice_recovery, "alice"), "recovery");
}

TEST_F(MfaTest, CheckRefusesAReplayEvenWithAStaleDeviceRecord)
{
    // Two logons that read the device before either used the code: the store decides.
    ASSERT_NO_FATAL_FAILURE(enrol());
    clock_.advance(2 * step);
    const auto who = resolve();
    const auto stale = store_->mfa_device(who.user.id);
    ASSERT_TRUE(stale && *stale);
    const std::string c = code();
    const auto first = mfa_->check(who, **stale, Secret(c));
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ(name_of(*first), std::string("totp"));
    const auto second = mfa_->check(who, **stale, Secret(c));
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(name_of(*second), std::string("replayed"));
}

TEST_F(MfaTest, CheckStillRefusesAReplayAfterReopening)
{
    ASSERT_NO_FATAL_FAILURE(enrol());
    clock_.advance(2 * step);
    const std::string c = code();
    ASSERT_EQ(check(c), "totp");

    auto reopened = sqlite::SqliteStore::open(tmp_.file("test.db"));
    ASSERT_TRUE(reopened) << reopened.error().message;
    auto box = SecretBox::from_key(Secret(key_));
    ASSERT_TRUE(box);
    directory::Audit audit(**reopened, clock_);
    Mfa mfa(**reopened, *box, audit, clock_, TotpParams{});
    EXPECT_EQ(check(c, "alice", &mfa, reopened->get()), "replayed");
    EXPECT_EQ(check(code(1), "alice", &mfa, reopened->get()), "totp");
    EXPECT_EQ(check(recovery_code(0), "alice", &mfa, reopened->get()), "recovery");
}

TEST_F(MfaTest, AnotherKeyCannotCheckCodes)
{
    ASSERT_NO_FATAL_FAILURE(enrol());
    clock_.advance(2 * step);
    auto box = SecretBox::from_key(Secret(std::string(SecretBox::key_size, 'x')));
    ASSERT_TRUE(box);
    Mfa other(*store_, *box, *audit_, clock_, TotpParams{});
    EXPECT_EQ(check(code(), "alice", &other).rfind("error:", 0), 0u);
    EXPECT_EQ(check(recovery_code(0), "alice", &other), "wrong");
}

TEST_F(MfaTest, ListShowsDevicesByAccountThenUser)
{
    ASSERT_TRUE(directory_->create_account({"db", proto::AccountKind::resource}, admin_));
    add_user("bob", "Bob-Passw0rd!", "db");
    const auto enrolled_at = clock_.now() + step; // the second code's time
    ASSERT_NO_FATAL_FAILURE(enrol("alice"));
    auto pending = start_distinctive(directory_->resolve({"bob", std::string("db")}).value());
    ASSERT_TRUE(pending);
    const Secret bob_secret = pending->secret.clone();
    ASSERT_TRUE(mfa_->accept_first(*pending, Secret(code(bob_secret)), "uid:0"));
    clock_.advance(step);
    ASSERT_TRUE(mfa_->accept_second(*pending, Secret(code(bob_secret)), "uid:0"));
    EXPECT_EQ(check(recovery_code(0)), "recovery");

    const auto mine = mfa_->list(resolve());
    ASSERT_TRUE(mine) << mine.error().message;
    ASSERT_EQ(mine->size(), 1u);
    EXPECT_EQ(mine->front().user, "alice@web.example.internal");
    EXPECT_EQ(mine->front().id, enrolled_.device.id);
    EXPECT_EQ(mine->front().created_at, core::to_unix(enrolled_at));
    EXPECT_EQ(mine->front().last_used_at, std::optional<std::int64_t>((enrol_step_ + 1) * 30));
    EXPECT_EQ(mine->front().recovery_codes_left, 9u);

    // Everyone's, by account then user name: db before web.
    const auto all = mfa_->list(std::nullopt);
    ASSERT_TRUE(all) << all.error().message;
    ASSERT_EQ(all->size(), 2u);
    EXPECT_EQ(all->at(0).user, "bob@db.example.internal");
    EXPECT_EQ(all->at(0).recovery_codes_left, 10u);
    EXPECT_EQ(all->at(1).user, "alice@web.example.internal");

    ASSERT_TRUE(mfa_->remove(resolve(), "uid:0"));
    EXPECT_TRUE(mfa_->list(resolve())->empty());
    EXPECT_EQ(audit_events("mfa.remove").size(), 1u);
    EXPECT_TRUE(fails_with(mfa_->remove(resolve(), "uid:0"), Errc::not_found));
}

TEST_F(MfaTest, RequiredByTheAccountOrForTheRootOfACloudAccount)
{
    directory::AccountRecord account;
    directory::UserRecord user;
    user.name = "alice";
    EXPECT_FALSE(Mfa::required(account, user));
    account.settings.mfa_required = true;
    EXPECT_TRUE(Mfa::required(account, user));
    account.settings.mfa_required = false;
    account.kind = proto::AccountKind::cloud;
    EXPECT_FALSE(Mfa::required(account, user));
    user.name = "root";
    EXPECT_TRUE(Mfa::required(account, user));
    account.kind = proto::AccountKind::resource;
    EXPECT_FALSE(Mfa::required(account, user));
}

// ---- single prompt ----------------------------------------------------------------------

TEST(MfaSplitTest, SplitsATrailingCode)
{
    const auto s = split_single_answer(Secret("pw123456"), 6);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->password.view(), "pw");
    EXPECT_EQ(s->code.view(), "123456");

    const auto eight = split_single_answer(Secret("pw12345678"), 8);
    ASSERT_TRUE(eight);
    EXPECT_EQ(eight->password.view(), "pw");
    EXPECT_EQ(eight->code.view(), "12345678");
}

TEST(MfaSplitTest, SplitsATrailingRecoveryCode)
{
    const auto s = split_single_answer(Secret("pwabcd-efgh-jkmn"), 6);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->password.view(), "pw");
    EXPECT_EQ(s->code.view(), "abcd-efgh-jkmn");

    const auto shouted = split_single_answer(Secret("pwABCD-EFGH-JKMN"), 6);
    ASSERT_TRUE(shouted);
    EXPECT_EQ(shouted->password.view(), "pw");
    EXPECT_EQ(shouted->code.view(), "ABCD-EFGH-JKMN");
}

TEST(MfaSplitTest, NeedsAPasswordAndAWholeCode)
{
    EXPECT_FALSE(split_single_answer(Secret("123456"), 6));
    EXPECT_FALSE(split_single_answer(Secret("abcd-efgh-jkmn"), 6));
    EXPECT_FALSE(split_single_answer(Secret("pw12345"), 6));
    EXPECT_FALSE(split_single_answer(Secret("password"), 6));
    EXPECT_FALSE(split_single_answer(Secret(""), 6));
    // Recovery codes: dashes in their places, and only letters and digits of their alphabet.
    EXPECT_FALSE(split_single_answer(Secret("pwabcdxefghxjkmn"), 6));
    EXPECT_FALSE(split_single_answer(Secret("pwabc-defgh-jkmn"), 6));
    EXPECT_FALSE(split_single_answer(Secret("pwabcd-efgh-jkm1"), 6));
    EXPECT_FALSE(split_single_answer(Secret("pwabcd-efgh-jkmo"), 6));
}

// ---- the logon dialogue -----------------------------------------------------------------

class MfaLogonTest : public MfaTest {
protected:
    std::string pw() const { return std::string(alice_password); }

    /// Answers an enrolment at logon: the password, then the codes of the key shown (kept in
    /// `key`), the second a step later.
    std::function<std::string(const Step&, const LogonRun&)>
    enrolling(std::optional<std::string>& key)
    {
        return [&](const Step& s, const LogonRun& run) -> std::string {
            if (s.prompt->kind == PromptKind::password)
                return pw();
            for (const auto& m : run.messages)
                if (m.text.rfind("Key: ", 0) == 0)
                    key = base32_decode(m.text.substr(5));
            if (!key)
                return "no key";
            if (s.prompt->text == "Next verification code: ")
                clock_.advance(step);
            return code(Secret(*key));
        };
    }
};

TEST_F(MfaLogonTest, AsksForACodeAfterThePassword)
{
    ASSERT_NO_FATAL_FAILURE(enrol());
    clock_.advance(2 * step);
    const auto r = logon("alice", {pw(), code()});
    EXPECT_EQ(r.verdict.outcome, Outcome::success) << r.verdict.message;
    EXPECT_TRUE(r.verdict.logon_id);
    EXPECT_EQ(r.prompts, (std::vector<PromptKind>{PromptKind::password,
                                                  PromptKind::verification_code}));
    const auto allowed = audit_events("auth.allow");
    ASSERT_FALSE(allowed.empty());
    EXPECT_EQ(allowed.front().fields.at("method"), "pwd+otp");
}

TEST_F(MfaLogonTest, WithoutADeviceOnlyThePasswordIsAsked)
{
    const auto r = logon("alice", {pw()});
    EXPECT_EQ(r.verdict.outcome, Outcome::success) << r.verdict.message;
    EXPECT_EQ(r.prompts, std::vector<PromptKind>{PromptKind::password});
}

TEST_F(MfaLogonTest, AWrongPasswordIsDeniedBeforeTheCode)
{
    ASSERT_NO_FATAL_FAILURE(enrol());
    clock_.advance(2 * step);
    const std::string c = code();
    const auto r = logon("alice", {"wrong", c});
    EXPECT_EQ(r.verdict.outcome, Outcome::denied);
    EXPECT_EQ(r.prompts, std::vector<PromptKind>{PromptKind::password});
    // The code was not used up.
    EXPECT_EQ(logon("alice", {pw(), c}).verdict.outcome, Outcome::success);
}

TEST_F(MfaLogonTest, AWrongCodeIsDenied)
{
    ASSERT_NO_FATAL_FAILURE(enrol());
    clock_.advance(2 * step);
    const auto r = logon("alice", {pw(), code(3)});
    EXPECT_EQ(r.verdict.outcome, Outcome::denied);
    EXPECT_FALSE(r.verdict.logon_id);
    EXPECT_NE(r.verdict.message.find("wrong verification code"), std::string::npos)
        << r.verdict.message;
    EXPECT_EQ(logon("alice", {pw(), "garbage"}).verdict.outcome, Outcome::denied);
    EXPECT_EQ(logon("alice", {pw(), ""}).verdict.outcome, Outcome::denied);
}

TEST_F(MfaLogonTest, WrongCodesLockTheUser)
{
    ASSERT_NO_FATAL_FAILURE(enrol());
    clock_.advance(2 * step);
    for (int i = 0; i < 4; ++i)
        EXPECT_EQ(logon("alice", {pw(), code(3)}).verdict.outcome, Outcome::denied);
    const auto fifth = logon("alice", {pw(), code(3)});
    EXPECT_EQ(fifth.verdict.outcome, Outcome::denied);
    EXPECT_EQ(fifth.verdict.message, "Authentication failed: wrong verification code.");
    // Locked: refused at the password like a wrong one, even the right password and code.
    const auto locked = logon("alice", {pw(), code()});
    EXPECT_EQ(locked.verdict.outcome, Outcome::denied);
    EXPECT_EQ(locked.prompts, std::vector<PromptKind>{PromptKind::password});
    EXPECT_EQ(locked.verdict.message, "Authentication failed: wrong user name or password.");
    EXPECT_TRUE(directory_->show_user({"alice", std::nullopt})->locked_until);
}

TEST_F(MfaLogonTest, ALockThatEngagesWhileACodeIsAwaitedRefusesTheRightCode)
{
    ASSERT_NO_FATAL_FAILURE(enrol());
    clock_.advance(2 * step);
    const LogonRequest req{"sshd", "alice", std::string("192.0.2.7"), std::nullopt, false, false};
    auto waiting = engine_->begin_logon(req, {0, 1, "pam"});
    ASSERT_TRUE(waiting.dialogue);
    const Step asked = waiting.dialogue->answer(Secret(pw()));
    ASSERT_TRUE(asked.prompt);
    for (int i = 0; i < 5; ++i) // meanwhile, from elsewhere
        logon("alice", {"wrong"});
    ASSERT_TRUE(directory_->show_user({"alice", std::nullopt})->locked_until);
    const Step v = waiting.dialogue->answer(Secret(code()));
    ASSERT_TRUE(v.verdict);
    EXPECT_EQ(v.verdict->outcome, Outcome::denied);
    EXPECT_FALSE(v.verdict->logon_id);
    EXPECT_NE(v.verdict->message.find("locked"), std::string::npos) << v.verdict->message;
}

TEST_F(MfaLogonTest, ARightCodeForgetsEarlierFailures)
{
    ASSERT_NO_FATAL_FAILURE(enrol());
    clock_.advance(2 * step);
    for (int i = 0; i < 4; ++i)
        logon("alice", {pw(), code(3)});
    ASSERT_EQ(logon("alice", {pw(), code()}).verdict.outcome, Outcome::success);
    for (int i = 0; i < 4; ++i)
        logon("alice", {pw(), code(3)});
    EXPECT_FALSE(directory_->show_user({"alice", std::nullopt})->locked_until);
}

TEST_F(MfaLogonTest, AReplayedCodeIsDenied)
{
    ASSERT_NO_FATAL_FAILURE(enrol());
    clock_.advance(2 * step);
    const std::string c = code();
    ASSERT_EQ(logon("alice", {pw(), c}).verdict.outcome, Outcome::success);
    const auto again = logon("alice", {pw(), c});
    EXPECT_EQ(again.verdict.outcome, Outcome::denied);
    EXPECT_FALSE(again.verdict.logon_id);
    EXPECT_NE(again.verdict.message.find("used already"), std::string::npos)
        << again.verdict.message;
}

TEST_F(MfaLogonTest, TwoLogonsRacingWithOneCodeOnlyOneWins)
{
    ASSERT_NO_FATAL_FAILURE(enrol());
    clock_.advance(2 * step);
    const LogonRequest req{"sshd", "alice", std::string("192.0.2.1"), std::nullopt, false, false};
    auto one = engine_->begin_logon(req, {0, 1, "pam"});
    auto two = engine_->begin_logon(req, {0, 2, "pam"});
    ASSERT_TRUE(one.dialogue && two.dialogue);
    const Step p1 = one.dialogue->answer(Secret(pw()));
    const Step p2 = two.dialogue->answer(Secret(pw()));
    ASSERT_TRUE(p1.prompt && p2.prompt);
    EXPECT_EQ(p1.prompt->kind, PromptKind::verification_code);
    const std::string c = code();
    const Step v1 = one.dialogue->answer(Secret(c));
    const Step v2 = two.dialogue->answer(Secret(c));
    ASSERT_TRUE(v1.verdict && v2.verdict);
    EXPECT_EQ(v1.verdict->outcome, Outcome::success) << v1.verdict->message;
    EXPECT_EQ(v2.verdict->outcome, Outcome::denied) << v2.verdict->message;
}

TEST_F(MfaLogonTest, ARecoveryCodeIsAcceptedOnce)
{
    ASSERT_NO_FATAL_FAILURE(enrol());
    const auto r = logon("alice", {pw(), recovery_code(0)});
    EXPECT_EQ(r.verdict.outcome, Outcome::success) << r.verdict.message;
    EXPECT_TRUE(r.verdict.logon_id);
    ASSERT_EQ(r.last_messages.size(), 1u);
    EXPECT_NE(r.last_messages.front().text.find("9 left"), std::string::npos)
        << r.last_messages.front().text;
    EXPECT_EQ(audit_events("auth.allow").front().fields.at("method"), "pwd+recovery");
    EXPECT_EQ(logon("alice", {pw(), recovery_code(0)}).verdict.outcome, Outcome::denied);
}

TEST_F(MfaLogonTest, SinglePromptTakesPasswordAndCodeInOneAnswer)
{
    ASSERT_NO_FATAL_FAILURE(enrol());
    clock_.advance(2 * step);
    const auto r = logon("alice", {pw() + code()}, true);
    EXPECT_EQ(r.verdict.outcome, Outcome::success) << r.verdict.message;
    EXPECT_TRUE(r.verdict.logon_id);
    EXPECT_EQ(r.prompts, std::vector<PromptKind>{PromptKind::password});

    const auto rc = logon("alice", {pw() + recovery_code(0)}, true);
    EXPECT_EQ(rc.verdict.outcome, Outcome::success) << rc.verdict.message;
    EXPECT_EQ(rc.prompts, std::vector<PromptKind>{PromptKind::password});

    // A wrong code in the one answer is denied, and so is a replay.
    EXPECT_EQ(logon("alice", {pw() + code(3)}, true).verdict.outcome, Outcome::denied);
    EXPECT_EQ(logon("alice", {pw() + code()}, true).verdict.outcome, Outcome::denied);
}

TEST_F(MfaLogonTest, SinglePromptWithoutACodeStillAsksForOne)
{
    ASSERT_NO_FATAL_FAILURE(enrol());
    clock_.advance(2 * step);
    const auto r = logon("alice", {pw(), code()}, true);
    EXPECT_EQ(r.verdict.outcome, Outcome::success) << r.verdict.message;
    EXPECT_EQ(r.prompts, (std::vector<PromptKind>{PromptKind::password,
                                                  PromptKind::verification_code}));
}

TEST_F(MfaLogonTest, SinglePromptKeepsAPasswordThatEndsInSixDigits)
{
    // "Bob-Passw0rd!123456" looks like a password with a code appended; without a code, the
    // whole answer is still tried as the password, and the code is then asked for.
    add_user("bob", "Bob-Passw0rd!123456");
    ASSERT_NO_FATAL_FAILURE(enrol("bob"));
    clock_.advance(2 * step);
    const auto r = logon("bob", {"Bob-Passw0rd!123456", code()}, true);
    EXPECT_EQ(r.verdict.outcome, Outcome::success) << r.verdict.message;
    EXPECT_EQ(r.prompts, (std::vector<PromptKind>{PromptKind::password,
                                                  PromptKind::verification_code}));
    clock_.advance(step);
    const auto both = logon("bob", {"Bob-Passw0rd!123456" + code()}, true);
    EXPECT_EQ(both.verdict.outcome, Outcome::success) << both.verdict.message;
    EXPECT_EQ(both.prompts, std::vector<PromptKind>{PromptKind::password});
}

TEST_F(MfaLogonTest, ASinglePromptRefusalCostsTheSameForEveryName)
{
    // A wrong answer shaped like password + code costs a device's user two computations (the
    // split password, then the whole answer): so must it for a user without a device and for
    // a name nobody has, or the time of a refusal tells them apart.
    add_user("bob", "Bob-Passw0rd!1");
    ASSERT_NO_FATAL_FAILURE(enrol());
    const auto cost = [&](const std::string& user, const std::string& answer) {
        const auto before = hasher_.computations();
        EXPECT_EQ(logon(user, {answer}, true).verdict.outcome, Outcome::denied) << user;
        return hasher_.computations() - before;
    };
    for (const std::string& answer : std::vector<std::string>{
             "Wrong-Passw0rd!123456", "Wrong-Passw0rd!", "Wrong-Passw0rd!" + recovery_code(0)}) {
        const std::uint64_t due = answer == "Wrong-Passw0rd!" ? 1 : 2;
        EXPECT_EQ(cost("alice", answer), due) << answer << ", a user with a device";
        EXPECT_EQ(cost("bob", answer), due) << answer << ", a user without one";
        EXPECT_EQ(cost("nobody", answer), due) << answer << ", an unknown name";
    }
}

TEST_F(MfaLogonTest, RequiredWithoutADeviceIsDeniedWithHowToEnrol)
{
    ASSERT_NO_FATAL_FAILURE(set_settings({{"mfa_required", "true"}}));
    const auto r = logon("alice", {pw()});
    EXPECT_EQ(r.verdict.outcome, Outcome::denied);
    EXPECT_NE(r.verdict.message.find("latchkeyctl mfa enroll alice@web.example.internal"),
              std::string::npos)
        << r.verdict.message;
    EXPECT_EQ(r.prompts, std::vector<PromptKind>{PromptKind::password});
    // The reason is told only after the right password.
    const auto wrong = logon("alice", {"wrong"});
    EXPECT_EQ(wrong.verdict.message.find("latchkeyctl"), std::string::npos);
}

TEST_F(MfaLogonTest, RequiredWithEnrolAtLogonEnrolsDuringTheLogon)
{
    ASSERT_NO_FATAL_FAILURE(
        set_settings({{"mfa_required", "true"}, {"mfa_enrol_at_logon", "true"}}));
    std::optional<std::string> key;
    const auto r = run_logon("alice", enrolling(key));
    ASSERT_EQ(r.verdict.outcome, Outcome::success) << r.verdict.message;
    EXPECT_TRUE(r.verdict.logon_id);
    EXPECT_EQ(r.prompts, (std::vector<PromptKind>{PromptKind::password,
                                                  PromptKind::verification_code,
                                                  PromptKind::verification_code}));
    ASSERT_TRUE(key);
    EXPECT_EQ(key->size(), 20u);

    // Before the first code: the QR code, the key and the URI, all as secret lines.
    const auto& shown = r.messages;
    const std::string b32 = base32_encode(*key);
    const auto secret_lines = std::count_if(shown.begin(), shown.end(),
                                            [](const proto::Message& m) { return m.secret; });
    EXPECT_GT(secret_lines, 2 + 10); // QR lines + key + URI, then the recovery codes
    EXPECT_TRUE(std::any_of(shown.begin(), shown.end(), [&](const proto::Message& m) {
        return m.secret && m.text.rfind("URI: otpauth://totp/", 0) == 0 &&
               m.text.find("secret=" + b32) != std::string::npos;
    }));
    EXPECT_TRUE(std::any_of(shown.begin(), shown.end(), [](const proto::Message& m) {
        return !m.secret && m.text.find("alice@web.example.internal") != std::string::npos;
    }));
    for (const auto& m : shown) {
        if (!m.secret) {
            EXPECT_EQ(m.text.find(b32), std::string::npos) << "key in a plain line: " << m.text;
        }
    }

    // With the verdict: ten recovery codes, each on a secret line.
    std::vector<std::string> codes;
    for (const auto& m : r.last_messages)
        if (m.secret) {
            EXPECT_TRUE(looks_like_recovery_code(m.text)) << m.text;
            codes.push_back(m.text);
        }
    EXPECT_EQ(codes.size(), 10u);

    const auto alice = resolve();
    const auto d = store_->mfa_device(alice.user.id);
    ASSERT_TRUE(d && *d);
    EXPECT_EQ(*store_->recovery_codes_left(alice.user.id), 10u);
    EXPECT_EQ(audit_events("mfa.enroll").size(), 1u);

    // From now on the device is asked for; the enrolment codes are spent.
    secret_ = Secret(*key);
    EXPECT_EQ(logon("alice", {pw(), code()}).verdict.outcome, Outcome::denied);
    clock_.advance(step);
    const auto next = logon("alice", {pw(), code()});
    EXPECT_EQ(next.verdict.outcome, Outcome::success) << next.verdict.message;
    EXPECT_EQ(next.prompts, (std::vector<PromptKind>{PromptKind::password,
                                                     PromptKind::verification_code}));
    if (!codes.empty()) {
        EXPECT_EQ(logon("alice", {pw(), codes.front()}).verdict.outcome, Outcome::success);
    }
}

TEST_F(MfaLogonTest, ALogonResumedByAnotherEngineAtEveryStepEndsAlike)
{
    ASSERT_NO_FATAL_FAILURE(enrol());
    clock_.advance(2 * step);
    resume_between_answers_ = true;
    const auto r = logon("alice", {pw(), code()});
    EXPECT_EQ(r.verdict.outcome, Outcome::success) << r.verdict.message;
    EXPECT_EQ(r.prompts,
              (std::vector<PromptKind>{PromptKind::password, PromptKind::verification_code}));
    // The step it used is spent for every engine; a wrong code still counts.
    EXPECT_EQ(logon("alice", {pw(), code()}).verdict.outcome, Outcome::denied);
    EXPECT_EQ(logon("alice", {"wrong", code()}).verdict.message,
              "Authentication failed: wrong user name or password.");
    EXPECT_EQ(logon("nobody@web.example.internal", {pw()}).verdict.message,
              "Authentication failed: wrong user name or password.");
}

TEST_F(MfaLogonTest, AnEnrolmentAtLogonResumedAtEveryStepEnrolsTheKeyShown)
{
    ASSERT_NO_FATAL_FAILURE(
        set_settings({{"mfa_required", "true"}, {"mfa_enrol_at_logon", "true"}}));
    resume_between_answers_ = true;
    std::optional<std::string> key;
    const auto r = run_logon("alice", enrolling(key));
    ASSERT_EQ(r.verdict.outcome, Outcome::success) << r.verdict.message;
    EXPECT_EQ(r.prompts.size(), 3u);
    ASSERT_TRUE(key);
    secret_ = Secret(*key);
    clock_.advance(step);
    resume_between_answers_ = false;
    EXPECT_EQ(logon("alice", {pw(), code()}).verdict.outcome, Outcome::success);
}

TEST_F(MfaLogonTest, ASavedLogonIsNotReadableAndOnlyASavedLogonResumes)
{
    ASSERT_NO_FATAL_FAILURE(
        set_settings({{"mfa_required", "true"}, {"mfa_enrol_at_logon", "true"}}));
    auto started = engine_->begin_logon(
        {"oidc", "alice", "2001:db8::1", std::nullopt, false, false}, {0, 1, "pam"});
    ASSERT_TRUE(started.dialogue);
    const Step enrolling = started.dialogue->answer(Secret(pw()));
    ASSERT_TRUE(enrolling.prompt);
    const auto saved = started.dialogue->save();
    ASSERT_TRUE(saved);
    // The password is never in it; the key being set up is (the caller seals it).
    EXPECT_EQ(saved->view().find(pw()), std::string_view::npos);
    EXPECT_NE(saved->view().find("enrolment"), std::string_view::npos);

    for (const std::string bad :
         {"", "{}", "[1]", R"({"kind":"logon","state":{}})", R"({"kind":"other","state":{}})",
          R"({"kind":"logon","state":{"state":"done"}})"}) {
        const auto r = engine_->resume(Secret(bad));
        ASSERT_FALSE(r) << bad;
        EXPECT_TRUE(r.error().is(core::Errc::protocol_malformed)) << bad;
    }
}

TEST_F(MfaLogonTest, EnrolAtLogonAsksAgainAfterAWrongCode)
{
    ASSERT_NO_FATAL_FAILURE(
        set_settings({{"mfa_required", "true"}, {"mfa_enrol_at_logon", "true"}}));
    int code_prompts = 0;
    std::vector<std::string> errors;
    const auto r = run_logon("alice", [&](const Step& s, const LogonRun& run) -> std::string {
        if (s.prompt->kind == PromptKind::password)
            return pw();
        for (const auto& m : s.messages)
            if (m.style == proto::PromptStyle::error)
                errors.push_back(m.text);
        std::optional<std::string> key;
        for (const auto& m : run.messages)
            if (m.text.rfind("Key: ", 0) == 0)
                key = base32_decode(m.text.substr(5));
        if (!key)
            return "no key";
        if (++code_prompts == 1)
            return "000000x"; // wrong: asked again
        if (s.prompt->text == "Next verification code: ")
            clock_.advance(step);
        return code(Secret(*key));
    });
    EXPECT_EQ(r.verdict.outcome, Outcome::success) << r.verdict.message;
    EXPECT_EQ(code_prompts, 3);
    EXPECT_EQ(errors.size(), 1u);
    EXPECT_TRUE(*store_->mfa_device(resolve().user.id));
}

TEST_F(MfaLogonTest, EnrolAtLogonGivesUpAfterFiveWrongCodes)
{
    ASSERT_NO_FATAL_FAILURE(
        set_settings({{"mfa_required", "true"}, {"mfa_enrol_at_logon", "true"}}));
    int code_prompts = 0;
    const auto r = run_logon("alice", [&](const Step& s, const LogonRun&) -> std::string {
        if (s.prompt->kind == PromptKind::password)
            return pw();
        ++code_prompts;
        return "not a code";
    });
    EXPECT_EQ(r.verdict.outcome, Outcome::denied);
    EXPECT_EQ(code_prompts, 6); // five wrong, the sixth ends it
    EXPECT_NE(r.verdict.message.find("MFA enrolment failed"), std::string::npos)
        << r.verdict.message;
    EXPECT_FALSE(*store_->mfa_device(resolve().user.id));
}

// ---- self-service enrolment -------------------------------------------------------------

class MfaSelfEnrolmentTest : public MfaTest {
protected:
    void SetUp() override
    {
        MfaTest::SetUp();
        self_ = self_user();
        ASSERT_TRUE(self_) << "no user name for the test's uid, and no 'nobody'";
        caller_ = Caller{self_->uid, 1, "pam"};
    }

    void add_self() { add_user(self_->name, "Self-Passw0rd!"); }

    std::optional<SelfUser> self_;
    Caller caller_;
};

TEST_F(MfaSelfEnrolmentTest, RefusesACallerLatchkeyDoesNotKnow)
{
    EXPECT_TRUE(fails_with(engine_->begin_self_enrolment(caller_, Secret("Self-Passw0rd!")),
                           Errc::not_found));
    EXPECT_TRUE(fails_with(engine_->begin_self_enrolment(Caller{std::nullopt, 1, "oidc"},
                                                         Secret("Self-Passw0rd!")),
                           Errc::permission_denied));
}

TEST_F(MfaSelfEnrolmentTest, RightPasswordStartsAnEnrolment)
{
    ASSERT_NO_FATAL_FAILURE(add_self());
    auto pending = engine_->begin_self_enrolment(caller_, Secret("Self-Passw0rd!"));
    ASSERT_TRUE(pending) << pending.error().message;
    EXPECT_EQ(pending->who.user.name, self_->name);
    EXPECT_EQ(pending->who.account.name, "web");
    EXPECT_EQ(pending->secret.size(), 20u);
    EXPECT_FALSE(pending->first_step);

    const Secret secret = pending->secret.clone();
    ASSERT_TRUE(mfa_->accept_first(*pending, Secret(code(secret)), "uid:0"));
    clock_.advance(step);
    ASSERT_TRUE(mfa_->accept_second(*pending, Secret(code(secret)), self_->name));
    EXPECT_TRUE(*store_->mfa_device(resolve(self_->name).user.id));
    // One device per user.
    EXPECT_TRUE(fails_with(engine_->begin_self_enrolment(caller_, Secret("Self-Passw0rd!")),
                           Errc::failed_precondition));
}

TEST_F(MfaSelfEnrolmentTest, WrongPasswordIsRefusedAndCounted)
{
    ASSERT_NO_FATAL_FAILURE(add_self());
    for (int i = 0; i < 5; ++i)
        EXPECT_TRUE(fails_with(engine_->begin_self_enrolment(caller_, Secret("wrong")),
                               Errc::permission_denied));
    EXPECT_TRUE(directory_->show_user({self_->name, std::string("web")})->locked_until);
    EXPECT_TRUE(fails_with(engine_->begin_self_enrolment(caller_, Secret("Self-Passw0rd!")),
                           Errc::permission_denied));
    const auto denied = audit_events("mfa.enroll.deny");
    ASSERT_FALSE(denied.empty());
    EXPECT_EQ(denied.back().fields.at("reason"), "bad_password");
}

TEST_F(MfaSelfEnrolmentTest, RefusedWhenTheAccountDoesNotAllowIt)
{
    ASSERT_NO_FATAL_FAILURE(add_self());
    ASSERT_NO_FATAL_FAILURE(set_settings({{"allow_manage_mfa", "false"}}));
    EXPECT_TRUE(fails_with(engine_->begin_self_enrolment(caller_, Secret("Self-Passw0rd!")),
                           Errc::permission_denied));
    const auto denied = audit_events("mfa.enroll.deny");
    ASSERT_EQ(denied.size(), 1u);
    EXPECT_EQ(denied.front().fields.at("reason"), "not_allowed");
}

} // namespace
} // namespace latchkey::credentials
