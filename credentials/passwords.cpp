// SPDX-License-Identifier: Apache-2.0
// Setting passwords: the policy's composition and history rules, then the hash and the store.
#include "credentials/passwords.hpp"

#include <string>
#include <utility>
#include <vector>

#include "directory/password_policy.hpp"

namespace latchkey::credentials {

using core::Errc;

Passwords::Passwords(directory::Store& store,
                     directory::Directory& directory,
                     const PasswordHasher& hasher,
                     directory::Audit& audit,
                     const core::Clock& clock)
    : store_(store)
    , directory_(directory)
    , hasher_(hasher)
    , audit_(audit)
    , clock_(clock)
{
}

core::Status Passwords::replace(const directory::ResolvedUser& who,
                                const core::Secret& password,
                                bool require_change)
{
    const proto::PasswordPolicy& policy = who.account.policy;
    LATCHKEY_TRY_STATUS(directory::check_composition(policy, password));
    if (policy.history > 0) {
        // "The last N passwords" counts the current one.
        std::vector<std::string> previous;
        if (!who.user.password_hash.empty())
            previous.push_back(who.user.password_hash);
        LATCHKEY_TRY(older, store_.password_history(who.user.id, policy.history - 1));
        previous.insert(previous.end(), older.begin(), older.end());
        for (const auto& h : previous) {
            const auto same = hasher_.verify(h, password);
            if (same && *same)
                return core::fail(Errc::policy_violation,
                                  "the password must not be one of the last " +
                                      std::to_string(policy.history) + " passwords");
        }
    }
    LATCHKEY_TRY(hash, hasher_.hash(password));
    directory::PasswordChange change{std::move(hash), clock_.now(), require_change, policy.history};
    LATCHKEY_TRY_STATUS(store_.set_password(who.user.id, change));
    // Seed 004: a new password logs the user off everywhere (access keys keep working).
    LATCHKEY_TRY_STATUS(
        directory_.end_user_sessions(who.user, "password_change", directory::Actor{"latchkeyd"}));
    return {};
}

core::Result<proto::UserReply> Passwords::reset(const proto::UserSetPassword& req,
                                                const directory::Actor& actor)
{
    LATCHKEY_TRY(r, directory_.resolve(req.ref));
    proto::UserReply reply;
    const bool require = req.require_change.value_or(r.user.require_change);
    std::string mode;
    switch (req.mode) {
    case proto::PasswordMode::keep:
        if (req.password)
            return core::fail(Errc::invalid_argument, "keep mode takes no password");
        if (r.user.password_hash.empty())
            return core::fail(Errc::failed_precondition,
                              "user " + r.user.name + " has no password to keep; set one");
        LATCHKEY_TRY_STATUS(store_.set_require_change(r.user.id, require));
        mode = "keep";
        break;
    case proto::PasswordMode::generate: {
        if (req.password)
            return core::fail(Errc::invalid_argument, "generate mode takes no password");
        core::Secret generated = directory::generate_password(r.account.policy);
        // A generated password is fresh: the history check cannot fail, but the same path
        // keeps the rules in one place.
        LATCHKEY_TRY_STATUS(replace(r, generated, require));
        reply.generated_password = std::move(generated);
        mode = "generate";
        break;
    }
    case proto::PasswordMode::custom:
        if (!req.password || req.password->empty())
            return core::fail(Errc::invalid_argument, "custom mode needs the new password");
        LATCHKEY_TRY_STATUS(replace(r, *req.password, require));
        mode = "custom";
        break;
    }
    audit_.record(directory::Severity::notice, "user.password.reset",
                  {{"actor", actor.name},
                   {"account", r.account.name},
                   {"user", r.user.name},
                   {"mode", mode},
                   {"require_change", require ? "yes" : "no"}});
    LATCHKEY_TRY(fresh, store_.user_by_id(r.user.id));
    if (!fresh)
        return core::fail(Errc::not_found, "user " + r.user.name + " was deleted meanwhile");
    reply.user = directory_.info(r.account, *fresh);
    return reply;
}

} // namespace latchkey::credentials
