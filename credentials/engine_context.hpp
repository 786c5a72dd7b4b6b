// SPDX-License-Identifier: Apache-2.0
// What the AuthEngine and its dialogues share (internal to credentials/): the engine's context,
// the limits of a logon, and the helpers that build the steps of a dialogue.
#pragma once

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include <boost/describe.hpp>
#include <boost/json.hpp>

#include "core/log.hpp"
#include "core/random.hpp"
#include "credentials/auth_engine.hpp"
#include "credentials/source_throttle.hpp"
#include "directory/authority.hpp"
#include "directory/network.hpp"
#include "directory/password_policy.hpp"
#include "proto/codec.hpp"

namespace latchkey::credentials {

namespace engine {

using proto::Outcome;
using proto::PromptKind;
using proto::PromptStyle;

inline constexpr auto lock_duration = std::chrono::hours(1);
inline constexpr auto failure_window = std::chrono::hours(1);
inline constexpr auto pending_logon_lifetime = std::chrono::minutes(10);
inline constexpr auto pending_prune_interval = std::chrono::seconds(10);
inline constexpr int max_change_tries = 3;

// What a caller who has not proven a password sees when the user name or the password is wrong,
// the user is locked or its account closed: one message for all, so that the answer does not say
// which (docs/security.md).
inline constexpr std::string_view bad_credentials =
    "Authentication failed: wrong user name or password.";

// What a source sees while it is throttled, whatever the name it tries.
std::string throttled_message(core::TimePoint until);

Step verdict(Outcome outcome,
             std::string message = {},
             std::optional<std::string> logon_id = std::nullopt);

/// A line to show; `secret` lines (enrolment URI and QR, recovery codes) are redacted in logs.
proto::Message line(PromptStyle style, std::string text);

proto::Message secret_line(std::string_view text);

Step prompt(PromptKind kind,
            PromptStyle style,
            std::string text,
            std::vector<proto::Message> messages = {});

/// ASCII letters in lower case (names, host names).
std::string lowercase(std::string s);

/// "alice" of "alice@web.example.internal".
std::string local_part(const std::string& user);

/// The local name of a uid (getpwuid_r), for the PAM socket's callers.
std::optional<std::string> user_name_of(uid_t uid);

/// The policy in a sentence, shown above "New password: ".
std::string policy_summary(const proto::PasswordPolicy& p);

std::string when(core::TimePoint t);

/// Why a logon as `user` is refused because of what root is on its account (seed 000): on a
/// resource account or the management account root does not exist; on a cloud account it
/// cannot log on until its password has been recovered. Closed accounts refuse everyone.
struct RootRefusal {
    std::string message;
    std::string reason; ///< for the audit
};

std::optional<RootRefusal>
root_refusal(directory::Directory& directory, directory::Store& store, const std::string& user);

/// Whether the account lets `rhost` log on (its allowed logon networks; none: anywhere).
bool network_allowed(const directory::AccountRecord& account,
                     const std::optional<std::string>& rhost);

} // namespace engine

struct PendingLogon {
    std::string user_id;
    std::string service;
    std::optional<std::string> rhost;
    std::string method;
    core::TimePoint at;
    bool used = false;
};

struct AuthEngine::Context {
    Context(directory::Store& s,
            directory::Directory& d,
            PasswordHasher& h,
            Mfa& m,
            directory::Audit& a,
            const core::Clock& c)
        : store(s)
        , directory(d)
        , hasher(h)
        , passwords(s, d, h, a, c)
        , passkeys(s, d, a)
        , mfa(m)
        , audit(a)
        , clock(c)
    {
    }

    directory::Store& store;
    directory::Directory& directory;
    PasswordHasher& hasher;
    Passwords passwords;
    Passkeys passkeys;
    Mfa& mfa;
    directory::Audit& audit;
    const core::Clock& clock;

    /// Security keys at the hosts; set once before the first logon.
    HostKeySettings host_keys;

    DeviceApprovals approvals{DeviceApprovals::Limits{}};
    /// Set once before the first logon; no uri: remote logons are not approved on a page.
    AuthEngine::DevicePage device_page;

    /// Made-up passkey credential ids for names without passkeys come from this (passkey_logon.cpp).
    const std::string decoy_key = core::random_string(32);

    std::mutex pending_mutex;
    std::map<std::string, PendingLogon> pending; ///< logon id -> logon, for the session hooks
    core::TimePoint next_prune{};

    void record(directory::Severity severity,
                const std::string& event,
                const Caller& caller,
                const std::string& service,
                const std::string& user,
                const std::optional<std::string>& rhost,
                std::string reason,
                std::map<std::string, std::string> extra = {})
    {
        extra["service"] = service;
        extra["user"] = user.substr(0, 64);
        extra["front_door"] = caller.front_door;
        if (rhost)
            extra["rhost"] = rhost->substr(0, 128);
        if (!reason.empty())
            extra["reason"] = std::move(reason);
        if (caller.uid)
            extra["caller_uid"] = std::to_string(*caller.uid);
        // Seed 003: every root logon attempt, whatever its outcome and front door, is an alert.
        if (engine::local_part(user) == "root" &&
            (event.rfind("auth.", 0) == 0 || event.rfind("passwd.", 0) == 0)) {
            severity = directory::Severity::alert;
            if (!extra.contains("account"))
                if (const auto located = directory.locate({user, std::nullopt}))
                    extra["account"] = located->first.name;
        }
        audit.record(severity, event, std::move(extra));
    }

    /// An unprivileged caller may only ask about the user it runs as (screen lockers, passwd).
    bool may_ask(const Caller& caller, const std::string& user) const
    {
        if (!caller.uid || *caller.uid == 0)
            return true;
        const auto name = engine::user_name_of(*caller.uid);
        return name && *name == user;
    }

    std::string remember_logon(const directory::ResolvedUser& who,
                               const std::string& service,
                               const std::optional<std::string>& rhost,
                               std::string method)
    {
        const auto now = clock.now();
        std::string id = core::uuid_v4();
        const std::lock_guard lock(pending_mutex);
        // Pruning walks the whole map: do it now and then, not on every logon.
        if (now >= next_prune) {
            std::erase_if(pending, [&](const auto& kv) {
                return kv.second.at + engine::pending_logon_lifetime < now;
            });
            next_prune = now + engine::pending_prune_interval;
        }
        pending.emplace(id, PendingLogon{who.user.id, service, rhost, std::move(method), now});
        return id;
    }

    /// The logon that authenticated a session: by id when the module still had it, else the
    /// newest unused logon of the same user and service (sshd authenticates in a child process).
    std::optional<std::pair<std::string, PendingLogon>>
    claim_logon(const std::optional<std::string>& id,
                const std::string& user_id,
                const std::string& service)
    {
        const std::lock_guard lock(pending_mutex);
        if (id) {
            const auto it = pending.find(*id);
            if (it != pending.end() && it->second.user_id == user_id) {
                it->second.used = true;
                return *it;
            }
        }
        std::map<std::string, PendingLogon>::iterator best = pending.end();
        for (auto it = pending.begin(); it != pending.end(); ++it)
            if (!it->second.used && it->second.user_id == user_id &&
                it->second.service == service &&
                (best == pending.end() || it->second.at > best->second.at))
                best = it;
        if (best == pending.end())
            return std::nullopt;
        best->second.used = true;
        return *best;
    }

    bool locked(const directory::UserRecord& u) const
    {
        return u.locked_until && *u.locked_until > clock.now();
    }

    /// The lock on `who`, read afresh at a verdict: a dialogue may have been opened before the
    /// lock engaged. A store failure counts as locked (fail closed).
    bool locked_now(const directory::ResolvedUser& who)
    {
        const auto lock = store.lock_in_force(who.user.id, clock.now());
        if (!lock) {
            core::log::error("reading the lock of a user failed: " + lock.error().message);
            return true;
        }
        return lock->has_value();
    }

    /// A wrong answer: counted for the user, and the user locked at the policy's limit, in one
    /// transaction with the count.
    void count_failure(const directory::ResolvedUser& who,
                       const Caller& caller,
                       const std::string& service)
    {
        const auto now = clock.now();
        const auto until = now + engine::lock_duration;
        const auto tally = store.record_failure(who.user.id, now, now - engine::failure_window,
                                                who.account.policy.max_failed_per_hour, until);
        if (!tally) {
            core::log::error("counting a failed logon failed: " + tally.error().message);
            return;
        }
        if (tally->locked_now)
            record(directory::Severity::warning, "user.lock", caller, service, who.user.name,
                   std::nullopt, "too_many_failures",
                   {{"account", who.account.name},
                    {"failures", std::to_string(tally->failures)},
                    {"until", engine::when(until)}});
    }

    /// A right answer stands only while no lock is in force: the check and forgetting the
    /// failures are one transaction, so no failure can lock the user in between.
    bool settle_success(const directory::ResolvedUser& who)
    {
        const auto lock = store.settle_success(who.user.id, clock.now());
        if (!lock) {
            core::log::error("settling a logon failed: " + lock.error().message);
            return false;
        }
        return !lock->has_value();
    }

    // ---- failures per source (docs/security.md) ----

    SourceThrottle throttle;

    /// The name a source tries, in a form made without asking whether the user exists: the
    /// local part, lowercased, at the id of the account its domain names (the host's account
    /// for a bare PAM name); the typed name, lowercased, when no account has that domain.
    std::string throttle_name(const std::string& typed)
    {
        const std::string name = engine::lowercase(typed.substr(0, 320));
        const auto located = directory.locate({name, std::nullopt});
        if (!located)
            return name;
        return engine::local_part(name) + "@" + located->first.id;
    }

    /// Until when the request's source may not try its user (nullopt: it may now, or the
    /// request names no source: a local logon).
    std::optional<core::TimePoint> throttled(const LogonRequest& r)
    {
        if (!r.rhost || r.rhost->empty())
            return std::nullopt;
        return throttle.throttled_until(*r.rhost, throttle_name(r.user), clock.now());
    }

    void count_source_failure(const LogonRequest& r)
    {
        if (r.rhost && !r.rhost->empty())
            throttle.record_failure(*r.rhost, throttle_name(r.user), clock.now());
    }
};

namespace engine {

// What the person sees for every refused passkey: which check failed is for the audit.
inline constexpr std::string_view passkey_refused =
    "Authentication failed: the passkey was not accepted. Try again, or use your password.";

/// The verdict on one assertion of a stored passkey (passkey_logon.cpp).
struct PasskeyCheck {
    enum class Outcome : std::uint8_t { verified, refused, unavailable };
    Outcome outcome = Outcome::refused;
    std::string reason; ///< refused: the library's reason, or counter_race
    core::Error error;  ///< unavailable: what failed
    std::string key;    ///< verified: hwk|swk, "+uv" when the user was verified
    bool user_verified = false;
};

/// Every check of WebAuthn §7.2 against `key` (whose user the caller has decided), then its
/// counter stored only if no other sign-in stored one meanwhile.
PasskeyCheck check_passkey(AuthEngine::Context& c,
                           const directory::PasskeyRecord& key,
                           const webauthn::PendingCeremony& pending,
                           const webauthn::AuthenticationResponse& response);

} // namespace engine

/// The logon dialogue of begin_logon(): the password (or a security key), then the second
/// factor or its enrolment; its first step is the first prompt.
Started logon_dialogue(AuthEngine::Context& ctx,
                       LogonRequest request,
                       Caller caller,
                       std::optional<directory::ResolvedUser> who);

namespace engine {

/// Whether `who` may change their own MFA device with `password`: the account allows it, no
/// lock, the right password (a wrong one counts toward the lockout). Refusals are audited as
/// `deny_event`.
core::Status own_mfa_change(AuthEngine::Context& c,
                            const directory::ResolvedUser& who,
                            const core::Secret& password,
                            const Caller& caller,
                            const std::string& service,
                            const std::string& deny_event);

/// A password change of a user found already: refused when locked, without a password, hard
/// expired, or not allowed by the account; else the dialogue at "Current password: ".
Started begin_change_of(AuthEngine::Context& c,
                        const proto::PasswordChangeBegin& request,
                        const Caller& caller,
                        directory::ResolvedUser who);

} // namespace engine

/// The password change dialogue of begin_password_change(), from "Current password: ".
std::unique_ptr<Dialogue> password_change_dialogue(AuthEngine::Context& ctx,
                                                   proto::PasswordChangeBegin request,
                                                   Caller caller,
                                                   directory::ResolvedUser who);

/// The same dialogue for a user who has just proven the current password: it starts at
/// "New password: ", with `reason` and the policy above it.
Started required_change_dialogue(AuthEngine::Context& ctx,
                                 proto::PasswordChangeBegin request,
                                 Caller caller,
                                 directory::ResolvedUser who,
                                 std::string reason);

// ---- dialogues saved and resumed (Dialogue::save, AuthEngine::resume) ----------------------

BOOST_DESCRIBE_STRUCT(
    LogonRequest,
    (),
    (service, user, rhost, tty, ignore_unknown_user, single_prompt, directory_wide, security_key))
BOOST_DESCRIBE_STRUCT(Caller, (), (uid, pid, front_door))

namespace engine {

/// A dialogue's saved form: {"kind": `kind`, "state": `state`} as JSON text.
core::Secret saved_dialogue(std::string_view kind, boost::json::value state);

/// The user a saved dialogue was about, as the directory has it now: not_found when the user
/// is gone (the saved dialogue cannot go on).
core::Result<directory::ResolvedUser> saved_user(AuthEngine::Context& ctx,
                                                 const std::string& user_id);

} // namespace engine

/// The dialogues of logon_dialogue() and of the password changes, from their saved state.
core::Result<std::unique_ptr<Dialogue>> resume_logon_dialogue(AuthEngine::Context& ctx,
                                                              const boost::json::value& state);
core::Result<std::unique_ptr<Dialogue>> resume_password_change(AuthEngine::Context& ctx,
                                                               const boost::json::value& state);

} // namespace latchkey::credentials
