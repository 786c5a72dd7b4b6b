// SPDX-License-Identifier: Apache-2.0
// The logon, password change, account check and session rules.
#include "credentials/auth_engine.hpp"

#include <pwd.h>

#include <algorithm>
#include <vector>

#include "core/random.hpp"
#include "directory/authority.hpp"
#include "core/log.hpp"
#include "directory/network.hpp"
#include "directory/password_policy.hpp"

namespace latchkey::credentials {

namespace {

using proto::Outcome;
using proto::PromptKind;
using proto::PromptStyle;

constexpr auto lock_duration = std::chrono::hours(1);
constexpr auto failure_window = std::chrono::hours(1);
constexpr auto pending_logon_lifetime = std::chrono::minutes(10);
constexpr auto pending_prune_interval = std::chrono::seconds(10);
constexpr int max_change_tries = 3;

// What a person sees when the user name or the password is wrong: one message for both, so
// that the answer does not say which.
constexpr std::string_view bad_credentials = "Authentication failed: wrong user name or password.";

Step verdict(Outcome outcome, std::string message = {},
             std::optional<std::string> logon_id = std::nullopt)
{
    Step s;
    s.verdict = proto::Verdict{outcome, std::move(message), std::move(logon_id)};
    return s;
}

/// A line to show; `secret` lines (enrolment URI and QR, recovery codes) are redacted in logs.
proto::Message line(PromptStyle style, std::string text)
{
    return {style, std::move(text), false};
}

proto::Message secret_line(std::string_view text)
{
    return {PromptStyle::info, std::string(text), true};
}

Step prompt(PromptKind kind, PromptStyle style, std::string text,
            std::vector<proto::Message> messages = {})
{
    Step s;
    s.messages = std::move(messages);
    s.prompt = proto::Prompt{kind, style, std::move(text)};
    return s;
}

std::string local_part(const std::string& user)
{
    const auto at = user.find('@');
    return at == std::string::npos ? user : user.substr(0, at);
}

std::optional<std::string> user_name_of(uid_t uid)
{
    struct passwd pw{};
    struct passwd* found = nullptr;
    std::vector<char> buf(16384);
    if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr)
        return std::nullopt;
    return std::string(pw.pw_name);
}

std::string policy_summary(const proto::PasswordPolicy& p)
{
    std::vector<std::string> classes;
    if (p.require_lowercase)
        classes.emplace_back("a lowercase letter");
    if (p.require_uppercase)
        classes.emplace_back("an uppercase letter");
    if (p.require_digit)
        classes.emplace_back("a digit");
    if (p.require_symbol)
        classes.emplace_back("a symbol");
    std::string s = "A new password needs at least " + std::to_string(p.min_length) + " characters";
    for (std::size_t i = 0; i < classes.size(); ++i)
        s += (i == 0 ? " with " : i + 1 == classes.size() ? " and " : ", ") + classes[i];
    if (p.history > 0)
        s += ", and must differ from the last " + std::to_string(p.history);
    return s + ".";
}

std::string when(core::TimePoint t)
{
    return core::to_iso8601(t);
}

} // namespace

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
        , mfa(m)
        , audit(a)
        , clock(c)
    {
    }

    directory::Store& store;
    directory::Directory& directory;
    PasswordHasher& hasher;
    Passwords passwords;
    Mfa& mfa;
    directory::Audit& audit;
    const core::Clock& clock;

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
        if (local_part(user) == "root" &&
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
        const auto name = user_name_of(*caller.uid);
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
                return kv.second.at + pending_logon_lifetime < now;
            });
            next_prune = now + pending_prune_interval;
        }
        pending.emplace(id, PendingLogon{who.user.id, service, rhost, std::move(method), now});
        return id;
    }

    /// The logon that authenticated a session: by id when the module still had it, else the
    /// newest unused logon of the same user and service (sshd authenticates in a child process).
    std::optional<std::pair<std::string, PendingLogon>> claim_logon(
        const std::optional<std::string>& id, const std::string& user_id,
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

    /// Counts a failure; locks the user when the policy's limit is reached. Returns a message
    /// to add when this failure locked the account.
    std::string count_failure(const directory::ResolvedUser& who,
                              const Caller& caller,
                              const std::string& service)
    {
        const auto now = clock.now();
        const auto count = store.record_failure(who.user.id, now, now - failure_window);
        const auto limit = who.account.policy.max_failed_per_hour;
        if (!count || limit == 0 || *count < limit)
            return {};
        if (!store.set_locked_until(who.user.id, now + lock_duration))
            return {};
        record(directory::Severity::warning, "user.lock", caller, service, who.user.name,
               std::nullopt, "too_many_failures",
               {{"account", who.account.name},
                {"failures", std::to_string(*count)},
                {"until", when(now + lock_duration)}});
        return " Too many failed logons: the account is locked until " +
               when(now + lock_duration) + ".";
    }
};

// ---- logon ------------------------------------------------------------------------------

namespace {

class LogonDialogue final : public Dialogue {
public:
    LogonDialogue(AuthEngine::Context& ctx,
                  LogonRequest request,
                  Caller caller,
                  std::optional<directory::ResolvedUser> who)
        : ctx_(ctx)
        , request_(std::move(request))
        , caller_(std::move(caller))
        , who_(std::move(who))
    {
    }

    Step answer(core::Secret a) override
    {
        switch (state_) {
        case State::password: return on_password(std::move(a));
        case State::code: return on_code(a);
        case State::enrol_first: return on_enrol_first(a);
        case State::enrol_second: return on_enrol_second(a);
        case State::done: break;
        }
        return verdict(Outcome::denied, "this logon has already ended");
    }

    bool answer_is_slow() const override { return state_ == State::password; }

private:
    enum class State : std::uint8_t { password, code, enrol_first, enrol_second, done };

    Step on_password(core::Secret answer)
    {
        state_ = State::done;
        if (!who_ || who_->user.password_hash.empty()) {
            // Same work and same answer as a wrong password: names cannot be probed.
            ctx_.hasher.burn(answer);
            deny_record(who_ ? "no_password" : "unknown_user", request_.user);
            return verdict(Outcome::denied, std::string(bad_credentials));
        }
        auto found = ctx_.mfa.device(who_->user);
        if (!found)
            return unavailable("reading the MFA device", found.error());
        device_ = std::move(*found);
        // Single prompt: "password123456" when the user has a device.
        core::Secret password = std::move(answer);
        std::optional<core::Secret> inline_code;
        std::optional<core::Secret> whole; // in case the password itself ends like a code
        if (request_.single_prompt && device_) {
            if (auto split = split_single_answer(password, device_->digits)) {
                whole = std::move(password);
                password = std::move(split->password);
                inline_code = std::move(split->code);
            }
        }
        auto ok = ctx_.hasher.verify(who_->user.password_hash, password);
        if (ok && !*ok && whole) {
            // No code appended after all: the whole answer may be the password, and the code
            // is then asked for separately.
            ok = ctx_.hasher.verify(who_->user.password_hash, *whole);
            if (ok && *ok) {
                password = std::move(*whole);
                inline_code.reset();
            }
        }
        if (!ok)
            return unavailable("verifying a password", ok.error());
        if (!*ok) {
            const std::string locked = ctx_.count_failure(*who_, caller_, request_.service);
            deny_record("bad_password");
            return verdict(Outcome::denied, std::string(bad_credentials) + locked);
        }
        // The password is right: from here on, the reasons can be told.
        if (!who_->user.console_logon) {
            deny_record("logon_disabled");
            return verdict(Outcome::denied, "Console logon is disabled for this user.");
        }
        const auto& networks = who_->account.settings.allowed_networks;
        if (!networks.empty()) {
            const bool allowed =
                request_.rhost && std::any_of(networks.begin(), networks.end(), [&](auto& n) {
                    const auto net = directory::parse_cidr(n);
                    return net && directory::contains(*net, *request_.rhost);
                });
            if (!allowed) {
                deny_record("network_not_allowed");
                return verdict(Outcome::denied,
                               "Logon from this network is not allowed for this account.");
            }
        }
        if (ctx_.hasher.needs_rehash(who_->user.password_hash)) {
            if (auto fresh = ctx_.hasher.hash(password))
                (void)ctx_.store.rehash_password(who_->user.id, who_->user.password_hash, *fresh);
        }
        return second_factor(std::move(inline_code));
    }

    /// After the password: a code when the user has a device, enrolment or a refusal when
    /// policy demands one, else done. Failures are forgotten only once every factor passed.
    Step second_factor(std::optional<core::Secret> inline_code)
    {
        if (device_) {
            method_ = "pwd+otp";
            if (inline_code)
                return on_code(*inline_code);
            state_ = State::code;
            return prompt(PromptKind::verification_code, PromptStyle::echo_off,
                          "Verification code: ");
        }
        if (!Mfa::required(who_->account, who_->user))
            return succeed();
        method_ = "pwd+otp";
        const std::string name = who_->user.name + "@" + who_->account.default_domain;
        // Root enrols before its first logon completes, whatever the account's setting.
        if (!who_->account.settings.mfa_enrol_at_logon &&
            !directory::Authority::is_root(who_->account, who_->user)) {
            deny_record("mfa_not_enrolled");
            return verdict(Outcome::denied,
                           "Multi-factor authentication is required, and no MFA device is "
                           "enrolled for " + name + ". Ask an administrator to enrol one: "
                           "latchkeyctl mfa enroll " + name);
        }
        return begin_enrolment(name);
    }

    Step on_code(const core::Secret& code)
    {
        state_ = State::done;
        const auto checked = ctx_.mfa.check(*who_, *device_, code);
        if (!checked)
            return unavailable("checking a verification code", checked.error());
        switch (*checked) {
        case CodeCheck::totp: return succeed();
        case CodeCheck::recovery: {
            method_ = "pwd+recovery";
            const auto left = ctx_.store.recovery_codes_left(who_->user.id);
            std::string note = "You logged on with a recovery code, which is now used up";
            if (left)
                note += "; " + std::to_string(*left) + " left";
            note += ". Ask an administrator for new ones when few are left.";
            return succeed({line(PromptStyle::info, std::move(note))});
        }
        case CodeCheck::replayed:
            deny_record("replayed_code");
            return verdict(Outcome::denied,
                           "This verification code has been used already; wait for the next "
                           "one.");
        case CodeCheck::wrong: break;
        }
        const std::string locked = ctx_.count_failure(*who_, caller_, request_.service);
        deny_record("bad_code");
        return verdict(Outcome::denied, "Authentication failed: wrong verification code." + locked);
    }

    Step begin_enrolment(const std::string& name)
    {
        auto pending = ctx_.mfa.start(*who_);
        if (!pending)
            return unavailable("starting an MFA enrolment", pending.error());
        auto challenge = ctx_.mfa.challenge(*pending);
        if (!challenge)
            return unavailable("starting an MFA enrolment", challenge.error());
        pending_ = std::move(*pending);
        std::vector<proto::Message> m;
        const auto info = [&](std::string text) { m.push_back(line(PromptStyle::info, std::move(text))); };
        const auto secret = [&](std::string_view prefix, const core::Secret& s) {
            std::string text = std::string(prefix) + std::string(s.view());
            m.push_back(secret_line(text));
            core::wipe(text.data(), text.size());
        };
        info("Multi-factor authentication is required for " + name +
             ". Set up an authenticator app now: scan this QR code, or enter the key by hand.");
        for (const auto& line : challenge->qr)
            secret("", line);
        secret("Key: ", challenge->key);
        secret("URI: ", challenge->uri);
        info("Enter the code the app shows; then wait for it to change and enter the next one.");
        ctx_.record(directory::Severity::notice, "mfa.enroll.start", caller_, request_.service,
                    who_->user.name, request_.rhost, "", {{"account", who_->account.name}});
        state_ = State::enrol_first;
        return prompt(PromptKind::verification_code, PromptStyle::echo_off,
                      "Verification code: ", std::move(m));
    }

    Step on_enrol_first(const core::Secret& code)
    {
        if (auto st = ctx_.mfa.accept_first(*pending_, code, "logon"); !st)
            return enrolment_retry(st.error());
        state_ = State::enrol_second;
        return prompt(PromptKind::verification_code, PromptStyle::echo_off,
                      "Next verification code: ");
    }

    Step on_enrol_second(const core::Secret& code)
    {
        auto enrolled = ctx_.mfa.accept_second(*pending_, code, "logon");
        if (!enrolled)
            return enrolment_retry(enrolled.error());
        pending_.reset();
        std::vector<proto::Message> m;
        m.push_back(line(PromptStyle::info,
                         "MFA device enrolled. Your recovery codes follow: each works once in "
                         "place of a code. Keep them safe; they are not shown again."));
        for (const auto& rc : enrolled->recovery_codes)
            m.push_back(secret_line(rc.view()));
        return succeed(std::move(m));
    }

    /// A wrong enrolment code asks again for the first code, until the enrolment gives up.
    Step enrolment_retry(const core::Error& e)
    {
        if (!e.is(core::Errc::invalid_argument)) {
            state_ = State::done;
            pending_.reset();
            deny_record("mfa_enrolment_failed");
            return verdict(Outcome::denied, "MFA enrolment failed: " + e.message + ".");
        }
        state_ = State::enrol_first;
        return prompt(PromptKind::verification_code, PromptStyle::echo_off, "Verification code: ",
                      {line(PromptStyle::error, "Sorry, " + e.message + ".")});
    }

    Step succeed(std::vector<proto::Message> messages = {})
    {
        state_ = State::done;
        (void)ctx_.store.clear_failures(who_->user.id);
        const std::string id =
            ctx_.remember_logon(*who_, request_.service, request_.rhost, method_);
        ctx_.record(directory::Severity::info, "auth.allow", caller_, request_.service,
                    who_->user.name, request_.rhost, "",
                    {{"method", method_}, {"account", who_->account.name}, {"logon_id", id}});
        Step s = verdict(Outcome::success, "", id);
        s.messages = std::move(messages);
        return s;
    }

    void deny_record(std::string reason, const std::optional<std::string>& user = std::nullopt)
    {
        std::map<std::string, std::string> extra{{"method", method_}};
        if (who_)
            extra["account"] = who_->account.name;
        ctx_.record(directory::Severity::warning, "auth.deny", caller_, request_.service,
                    user ? *user : who_->user.name, request_.rhost, std::move(reason),
                    std::move(extra));
    }

    Step unavailable(const std::string& what, const core::Error& e)
    {
        state_ = State::done;
        core::log::error(what + " failed: " + e.message);
        return verdict(Outcome::unavailable, "latchkey cannot check credentials right now");
    }

    AuthEngine::Context& ctx_;
    LogonRequest request_;
    Caller caller_;
    std::optional<directory::ResolvedUser> who_;
    State state_ = State::password;
    std::string method_ = "pwd";
    std::optional<directory::MfaDeviceRecord> device_;
    std::optional<PendingEnrolment> pending_;
};

// ---- password change --------------------------------------------------------------------

class PasswordChangeDialogue final : public Dialogue {
public:
    PasswordChangeDialogue(AuthEngine::Context& ctx,
                           proto::PasswordChangeBegin request,
                           Caller caller,
                           directory::ResolvedUser who)
        : ctx_(ctx)
        , request_(std::move(request))
        , caller_(std::move(caller))
        , who_(std::move(who))
    {
    }

    /// For a caller that has just verified the current password: the dialogue asks for the
    /// new one first.
    Step start_at_new(std::string reason)
    {
        return ask_new({line(PromptStyle::info, std::move(reason)),
                        line(PromptStyle::info, policy_summary(who_.account.policy))});
    }

    Step answer(core::Secret a) override
    {
        switch (state_) {
        case State::current: return on_current(std::move(a));
        case State::fresh: return on_new(std::move(a));
        case State::repeat: return on_repeat(std::move(a));
        case State::done: break;
        }
        return verdict(Outcome::authtok_error, "this password change has already ended");
    }

private:
    enum class State : std::uint8_t { current, fresh, repeat, done };

    Step ask_new(std::vector<proto::Message> messages = {})
    {
        state_ = State::fresh;
        return prompt(PromptKind::new_password, PromptStyle::echo_off, "New password: ",
                      std::move(messages));
    }

    Step retry(std::string why)
    {
        if (++tries_ >= max_change_tries) {
            state_ = State::done;
            audit("passwd.fail", "too_many_tries");
            return verdict(Outcome::authtok_error, why + " Password not changed.");
        }
        return ask_new({line(PromptStyle::error, std::move(why))});
    }

    Step on_current(core::Secret current)
    {
        const auto ok = ctx_.hasher.verify(who_.user.password_hash, current);
        if (!ok || !*ok) {
            state_ = State::done;
            const std::string locked = ctx_.count_failure(who_, caller_, request_.service);
            audit("passwd.fail", "bad_password");
            return verdict(Outcome::denied, "Wrong password: password not changed." + locked);
        }
        return ask_new({line(PromptStyle::info, policy_summary(who_.account.policy))});
    }

    Step on_new(core::Secret fresh)
    {
        if (auto st = directory::check_composition(who_.account.policy, fresh); !st)
            return retry(st.error().message + ".");
        fresh_ = std::move(fresh);
        state_ = State::repeat;
        return prompt(PromptKind::repeat_password, PromptStyle::echo_off, "Retype new password: ");
    }

    Step on_repeat(core::Secret repeat)
    {
        if (!repeat.equals(fresh_.view())) {
            fresh_.clear();
            return retry("Sorry, the passwords do not match.");
        }
        const auto st = ctx_.passwords.replace(who_, fresh_, false);
        fresh_.clear();
        if (!st) {
            if (st.error().is(core::Errc::policy_violation))
                return retry(st.error().message + ".");
            state_ = State::done;
            core::log::error("storing a changed password failed: " + st.error().message);
            return verdict(Outcome::unavailable, "latchkey cannot store the password right now");
        }
        state_ = State::done;
        audit("passwd.change", "");
        return verdict(Outcome::success, "Password changed.");
    }

    void audit(const std::string& event, std::string reason)
    {
        ctx_.record(event == "passwd.change" ? directory::Severity::notice
                                             : directory::Severity::warning,
                    event, caller_, request_.service, who_.user.name, std::nullopt,
                    std::move(reason), {{"account", who_.account.name}});
    }

    AuthEngine::Context& ctx_;
    proto::PasswordChangeBegin request_;
    Caller caller_;
    directory::ResolvedUser who_;
    State state_ = State::current;
    int tries_ = 0;
    core::Secret fresh_;
};

} // namespace

// ---- the engine -------------------------------------------------------------------------

AuthEngine::AuthEngine(directory::Store& store,
                       directory::Directory& directory,
                       PasswordHasher& hasher,
                       Mfa& mfa,
                       directory::Audit& audit,
                       const core::Clock& clock)
    : ctx_(std::make_unique<Context>(store, directory, hasher, mfa, audit, clock))
{
}

AuthEngine::~AuthEngine() = default;

namespace {

/// Resolves "user@domain" in any account of the directory (the OIDC pages). nullopt: latchkey
/// does not know the user.
core::Result<std::optional<directory::ResolvedUser>>
find_directory_user(directory::Directory& directory, const std::string& user)
{
    if (user.find('@') == std::string::npos)
        return std::optional<directory::ResolvedUser>{};
    auto r = directory.resolve({user, std::nullopt});
    if (!r) {
        if (r.error().is(core::Errc::not_found) || r.error().is(core::Errc::invalid_argument))
            return std::optional<directory::ResolvedUser>{};
        return core::fail(std::move(r).error());
    }
    return std::optional<directory::ResolvedUser>{std::move(*r)};
}

/// Resolves a PAM user in the host's account. nullopt: latchkey does not know the user; an
/// error: latchkey cannot tell (no host account, storage).
core::Result<std::optional<directory::ResolvedUser>> find_host_user(directory::Directory& directory,
                                                                    const std::string& user)
{
    const std::string host = directory.host_account();
    if (host.empty())
        return core::fail(core::Errc::failed_precondition, "this host is bound to no account");
    auto r = directory.resolve({user, std::nullopt});
    if (!r) {
        if (r.error().is(core::Errc::not_found) || r.error().is(core::Errc::invalid_argument))
            return std::optional<directory::ResolvedUser>{};
        return core::fail(std::move(r).error());
    }
    if (r->account.name != host) // a user of another account is no user of this host
        return std::optional<directory::ResolvedUser>{};
    return std::optional<directory::ResolvedUser>{std::move(*r)};
}

/// Whether a logon as `user` is refused because of what root is on its account (seed 000): on
/// a resource account or the management account root does not exist; on a cloud account it
/// cannot log on until its password has been recovered. Closed accounts refuse everyone.
struct RootRefusal {
    std::string message;
    std::string reason; ///< for the audit
};

std::optional<RootRefusal>
root_refusal(directory::Directory& directory, directory::Store& store, const std::string& user)
{
    if (local_part(user) != "root")
        return std::nullopt;
    const auto located = directory.locate({user, std::nullopt});
    if (!located)
        return RootRefusal{"root logon is disabled on this account", "root_disabled"};
    const directory::AccountRecord& a = located->first;
    if (a.closed_at)
        return RootRefusal{"account " + a.name + " is closed", "account_closed"};
    switch (a.kind) {
    case proto::AccountKind::resource:
        return RootRefusal{"root logon is disabled on resource accounts: " + a.name +
                               " is a resource account, which has no root user; a directory "
                               "administrator can switch it to a cloud account",
                           "root_disabled"};
    case proto::AccountKind::management:
        return RootRefusal{"root logon is disabled on the management account: its administrators "
                           "are users with the directory-admin role",
                           "root_disabled"};
    case proto::AccountKind::cloud: break;
    }
    const auto root = store.user_by_name(a.id, "root");
    if (!root)
        return RootRefusal{"root logon is unavailable: " + root.error().message, "store_failed"};
    if (!*root || (*root)->password_hash.empty())
        return RootRefusal{"the root user of cloud account " + a.name +
                               " has no password: it is recovered with a code sent to the "
                               "account's phone ('latchkeyctl account root recover " + a.name +
                               "')",
                           "root_no_password"};
    return std::nullopt;
}

} // namespace

Started AuthEngine::begin_logon(const LogonRequest& request, const Caller& caller)
{
    Context& c = *ctx_;
    if (!c.may_ask(caller, request.user)) {
        c.record(directory::Severity::warning, "auth.deny", caller, request.service, request.user,
                 request.rhost, "caller_not_permitted");
        return {verdict(Outcome::permission_denied,
                        "only root may authenticate a user other than the caller"),
                nullptr};
    }
    if (const auto why = root_refusal(c.directory, c.store, request.user)) {
        c.record(directory::Severity::alert, "auth.deny", caller, request.service, request.user,
                 request.rhost, why->reason);
        return {verdict(Outcome::denied, why->message), nullptr};
    }
    auto who = request.directory_wide ? find_directory_user(c.directory, request.user)
                                      : find_host_user(c.directory, request.user);
    if (!who) {
        core::log::error("logon of " + request.user.substr(0, 64) + ": " + who.error().message);
        return {verdict(Outcome::unavailable, who.error().message), nullptr};
    }
    if (!*who && request.ignore_unknown_user)
        return {verdict(Outcome::ignore), nullptr};
    if (*who && (*who)->account.closed_at) {
        c.record(directory::Severity::warning, "auth.deny", caller, request.service,
                 (*who)->user.name, request.rhost, "account_closed",
                 {{"account", (*who)->account.name}});
        return {verdict(Outcome::denied, "account " + (*who)->account.name + " is closed"),
                nullptr};
    }
    if (*who && c.locked((*who)->user)) {
        c.record(directory::Severity::warning, "auth.deny", caller, request.service,
                 (*who)->user.name, request.rhost, "locked", {{"account", (*who)->account.name}});
        return {verdict(Outcome::denied,
                        "The account is locked after too many failed logons until " +
                            when(*(*who)->user.locked_until) + "; an administrator can unlock it."),
                nullptr};
    }
    return {prompt(PromptKind::password, PromptStyle::echo_off, "Password: "),
            std::make_unique<LogonDialogue>(c, request, caller, std::move(*who))};
}

Started AuthEngine::begin_password_change(const proto::PasswordChangeBegin& request,
                                          const Caller& caller)
{
    Context& c = *ctx_;
    if (!c.may_ask(caller, request.user))
        return {verdict(Outcome::permission_denied,
                        "only root may change the password of a user other than the caller"),
                nullptr};
    if (const auto why = root_refusal(c.directory, c.store, request.user))
        return {verdict(Outcome::denied, why->message), nullptr};
    auto found = find_host_user(c.directory, request.user);
    if (!found)
        return {verdict(Outcome::unavailable, found.error().message), nullptr};
    if (!*found) // not ours: let the next module (pam_unix) change a local password
        return {verdict(Outcome::ignore), nullptr};
    directory::ResolvedUser who = std::move(**found);
    const auto now = c.clock.now();
    const proto::PasswordPolicy& policy = who.account.policy;
    const bool expired = directory::password_expired(policy, who.user.password_set_at, now);
    const bool forced = expired || who.user.require_change;
    if (request.only_if_expired && !forced)
        return {verdict(Outcome::success), nullptr};
    if (c.locked(who.user))
        return {verdict(Outcome::denied, "The account is locked after too many failed logons."),
                nullptr};
    if (who.user.password_hash.empty())
        return {verdict(Outcome::denied,
                        "You have no password yet; ask an administrator to set one."),
                nullptr};
    if (expired && policy.hard_expiry)
        return {verdict(Outcome::account_expired,
                        "Your password has expired; ask an administrator to reset it."),
                nullptr};
    if (!forced && !who.account.settings.allow_change_password)
        return {verdict(Outcome::permission_denied,
                        "Changing your own password is not allowed on this account; ask an "
                        "administrator."),
                nullptr};
    std::vector<proto::Message> messages;
    if (forced)
        messages.push_back(line(PromptStyle::info,
                                expired ? "Your password has expired."
                                        : "You are required to change your password."));
    messages.push_back(line(PromptStyle::info, "Changing password for " + who.user.name + "."));
    return {prompt(PromptKind::current_password, PromptStyle::echo_off, "Current password: ",
                   std::move(messages)),
            std::make_unique<PasswordChangeDialogue>(c, request, caller, std::move(who))};
}

Started AuthEngine::begin_required_change(const directory::ResolvedUser& who,
                                          const Caller& caller,
                                          const std::string& service,
                                          const std::string& reason)
{
    auto dialogue = std::make_unique<PasswordChangeDialogue>(
        *ctx_, proto::PasswordChangeBegin{service, who.user.name, true}, caller, who);
    Step first = dialogue->start_at_new(reason);
    return {std::move(first), std::move(dialogue)};
}

proto::Verdict AuthEngine::check_account(const proto::AccountCheck& request, const Caller& caller)
{
    Context& c = *ctx_;
    const auto v = [](Outcome o, std::string m = {}) { return proto::Verdict{o, std::move(m), {}}; };
    if (!c.may_ask(caller, request.user))
        return v(Outcome::permission_denied, "only root may check a user other than the caller");
    if (const auto why = root_refusal(c.directory, c.store, request.user))
        return v(Outcome::denied, why->message);
    auto found = find_host_user(c.directory, request.user);
    if (!found)
        return v(Outcome::unavailable, found.error().message);
    if (!*found)
        return request.ignore_unknown_user ? v(Outcome::ignore)
                                           : v(Outcome::denied, "unknown user");
    return check_user(**found);
}

proto::Verdict AuthEngine::check_user(const directory::ResolvedUser& who)
{
    Context& c = *ctx_;
    const auto v = [](Outcome o, std::string m = {}) { return proto::Verdict{o, std::move(m), {}}; };
    if (who.account.closed_at)
        return v(Outcome::denied, "account " + who.account.name + " is closed");
    if (!who.user.console_logon)
        return v(Outcome::denied, "Console logon is disabled for this user.");
    if (c.locked(who.user))
        return v(Outcome::denied, "The account is locked after too many failed logons.");
    const proto::PasswordPolicy& policy = who.account.policy;
    if (directory::password_expired(policy, who.user.password_set_at, c.clock.now())) {
        if (policy.hard_expiry)
            return v(Outcome::account_expired,
                     "Your password has expired; ask an administrator to reset it.");
        return v(Outcome::new_authtok_required, "Your password has expired; choose a new one.");
    }
    if (who.user.require_change)
        return v(Outcome::new_authtok_required, "You are required to change your password now.");
    return v(Outcome::success);
}

core::Result<PendingEnrolment> AuthEngine::begin_self_enrolment(const Caller& caller,
                                                                const core::Secret& password)
{
    Context& c = *ctx_;
    const std::optional<std::string> name = caller.uid ? user_name_of(*caller.uid) : std::nullopt;
    if (!name)
        return core::fail(core::Errc::permission_denied,
                          "self-service enrolment needs a caller with a user name");
    LATCHKEY_TRY(found, find_host_user(c.directory, *name));
    if (!found)
        return core::fail(core::Errc::not_found,
                          "latchkey does not know the user " + *name + " on this host");
    const directory::ResolvedUser& who = *found;
    const auto refuse = [&](std::string reason, core::Errc code, std::string message) {
        c.record(directory::Severity::warning, "mfa.enroll.deny", caller, "latchkeyctl",
                 who.user.name, std::nullopt, std::move(reason), {{"account", who.account.name}});
        return core::fail(code, std::move(message));
    };
    if (!who.account.settings.allow_manage_mfa)
        return refuse("not_allowed", core::Errc::permission_denied,
                      "managing your own MFA device is not allowed on this account; ask an "
                      "administrator");
    if (c.locked(who.user))
        return refuse("locked", core::Errc::permission_denied,
                      "the account is locked after too many failed logons");
    const auto ok = who.user.password_hash.empty()
                        ? core::Result<bool>(false)
                        : c.hasher.verify(who.user.password_hash, password);
    if (!ok)
        return core::fail(ok.error());
    if (!*ok) {
        const std::string locked = c.count_failure(who, caller, "latchkeyctl");
        return refuse("bad_password", core::Errc::permission_denied,
                      "wrong password; nothing was enrolled." + locked);
    }
    return c.mfa.start(who);
}

core::Result<std::string> AuthEngine::open_session(const proto::SessionOpen& request,
                                                   const Caller& caller)
{
    Context& c = *ctx_;
    if (!c.may_ask(caller, request.user))
        return core::fail(core::Errc::permission_denied,
                          "only root may open a session for a user other than the caller");
    LATCHKEY_TRY(found, find_host_user(c.directory, request.user));
    if (!found)
        return core::fail(core::Errc::not_found, "latchkey does not know this user");
    const directory::ResolvedUser& who = *found;
    directory::SessionRecord s;
    s.id = core::uuid_v4();
    s.user_id = who.user.id;
    s.service = request.service;
    s.tty = request.tty;
    s.rhost = request.rhost;
    s.pid = caller.pid;
    s.logind_session = request.logind_session;
    s.opened_at = c.clock.now();
    if (const auto logon = c.claim_logon(request.logon_id, who.user.id, request.service)) {
        s.logon_id = logon->first;
        s.method = logon->second.method;
    }
    LATCHKEY_TRY_STATUS(c.store.create_session(s));
    c.record(directory::Severity::info, "session.open", caller, request.service, who.user.name,
             request.rhost, "",
             {{"account", who.account.name},
              {"session_id", s.id},
              {"logon_id", s.logon_id.value_or("none")}});
    return s.id;
}

core::Status AuthEngine::close_session(const proto::SessionClose& request, const Caller& caller)
{
    Context& c = *ctx_;
    if (!c.may_ask(caller, request.user))
        return core::fail(core::Errc::permission_denied,
                          "only root may close a session of a user other than the caller");
    LATCHKEY_TRY(found, find_host_user(c.directory, request.user));
    if (!found)
        return core::fail(core::Errc::not_found, "latchkey does not know this user");
    LATCHKEY_TRY(open, c.store.open_sessions(found->user.id, c.clock.now()));
    // By id when the module kept it; otherwise the newest session of this service and tty.
    const directory::SessionRecord* match = nullptr;
    for (const auto& s : open) {
        if (s.kind != directory::SessionKind::pam) // a browser session is never PAM's to close
            continue;
        const bool same = request.session_id ? s.id == *request.session_id
                                             : s.service == request.service && s.tty == request.tty;
        if (same && (match == nullptr || s.opened_at >= match->opened_at))
            match = &s;
    }
    if (match == nullptr)
        return core::fail(core::Errc::not_found, "no such open session");
    LATCHKEY_TRY(closed, c.store.close_session(match->id, c.clock.now()));
    if (closed)
        c.record(directory::Severity::info, "session.close", caller, request.service,
                 found->user.name, match->rhost, "",
                 {{"account", found->account.name}, {"session_id", match->id}});
    return {};
}

} // namespace latchkey::credentials
