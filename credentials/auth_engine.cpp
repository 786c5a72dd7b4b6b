// SPDX-License-Identifier: Apache-2.0
// The engine's front door: starting logons and password changes, account checks, sessions and
// self-service enrolment. The dialogues are in logon_dialogue.cpp and
// password_change_dialogue.cpp.
#include "credentials/auth_engine.hpp"

#include "credentials/engine_context.hpp"
#include "proto/wire.hpp"

namespace latchkey::credentials {

using namespace engine;

Step Dialogue::answer_passkey(const webauthn::PendingCeremony& /*pending*/,
                              const webauthn::AuthenticationResponse& /*response*/)
{
    return verdict(Outcome::denied, "A passkey is not asked for here.");
}

Step Dialogue::answer_security_key(const proto::SecurityKeyResult& /*result*/)
{
    return verdict(Outcome::denied, "A security key is not asked for here.");
}

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

void AuthEngine::set_source_limits(std::uint32_t per_name, std::uint32_t per_source)
{
    ThrottleLimits limits;
    limits.per_name = per_name;
    limits.per_source = per_source;
    limits.window = engine::failure_window;
    ctx_->throttle.set_limits(limits);
}

void AuthEngine::set_host_keys(HostKeySettings settings)
{
    ctx_->host_keys = std::move(settings);
}

DeviceApprovals& AuthEngine::device_approvals()
{
    return ctx_->approvals;
}

void AuthEngine::set_device_page(DevicePage page)
{
    ctx_->device_page = std::move(page);
}

namespace {

/// What the person at the prompt is told when looking the user up failed: a store's own
/// message may name the database server, its socket or its tables, so it goes to the log and
/// the prompt gets a plain sentence. Other errors (a name that cannot be) say what they say.
std::string lookup_failure(const core::Error& e, std::string_view user)
{
    if (!e.is_store())
        return e.message;
    core::log::error("looking up " + std::string(user.substr(0, 64)) + ": " + e.message);
    return "latchkey cannot check credentials right now";
}

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

/// The host user a PAM-socket caller is, by its uid's name (self-service enrolments).
core::Result<directory::ResolvedUser> caller_user(directory::Directory& directory,
                                                  const Caller& caller)
{
    const std::optional<std::string> name = caller.uid ? user_name_of(*caller.uid) : std::nullopt;
    if (!name && caller.uid) {
        // No user of the host's own (latchkeyd never asks its own NSS socket): a directory user
        // of this host, by the uid libnss_latchkey gave it.
        LATCHKEY_TRY(by_uid, directory.resolve_uid(*caller.uid));
        if (by_uid && by_uid->user.name != "root" &&
            by_uid->account.name == directory.host_account())
            return std::move(*by_uid);
    }
    if (!name)
        return core::fail(core::Errc::permission_denied,
                          "self-service enrolment needs a caller with a user name");
    LATCHKEY_TRY(found, find_host_user(directory, *name));
    if (!found)
        return core::fail(core::Errc::not_found,
                          "latchkey does not know the user " + *name + " on this host");
    return std::move(*found);
}

} // namespace

namespace engine {

/// Whether a logon as `user` is refused because of what root is on its account (seed 000): on
/// a resource account or the management account root does not exist; on a cloud account it
/// cannot log on until its password has been recovered. Closed accounts refuse everyone.
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
        return RootRefusal{"root logon is unavailable: " + lookup_failure(root.error(), "root"),
                           "store_failed"};
    if (!*root || (*root)->password_hash.empty())
        return RootRefusal{"the root user of cloud account " + a.name +
                               " has no password: it is recovered with a code sent to the "
                               "account's phone ('latchkeyctl account root recover " +
                               a.name + "')",
                           "root_no_password"};
    return std::nullopt;
}

} // namespace engine

core::Result<std::unique_ptr<Dialogue>> AuthEngine::resume(const core::Secret& saved)
{
    boost::json::parse_options options;
    options.max_depth = 16;
    std::error_code ec;
    const auto v = boost::json::parse(
        boost::json::string_view(saved.view().data(), saved.view().size()), ec, {}, options);
    const auto* o = ec ? nullptr : v.if_object();
    const auto* kind = o != nullptr ? o->if_contains("kind") : nullptr;
    const auto* state = o != nullptr ? o->if_contains("state") : nullptr;
    if (kind == nullptr || state == nullptr || !kind->is_string())
        return core::fail(core::Errc::protocol_malformed, "not a saved dialogue");
    if (kind->get_string() == "logon")
        return resume_logon_dialogue(*ctx_, *state);
    if (kind->get_string() == "password_change")
        return resume_password_change(*ctx_, *state);
    return core::fail(core::Errc::protocol_malformed, "not a saved dialogue");
}

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
    if (!who)
        return {verdict(Outcome::unavailable, lookup_failure(who.error(), request.user)), nullptr};
    if (!*who && request.ignore_unknown_user)
        return {verdict(Outcome::ignore), nullptr};
    // A closed account and a lock are decided at the password's verdict, where they look like
    // a wrong password: asked now, they would tell a stranger that the user exists.
    return logon_dialogue(c, request, caller, std::move(*who));
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
        return {verdict(Outcome::unavailable, lookup_failure(found.error(), request.user)),
                nullptr};
    if (!*found) // not ours: let the next module (pam_unix) change a local password
        return {verdict(Outcome::ignore), nullptr};
    return begin_change_of(c, request, caller, std::move(**found));
}

Started AuthEngine::begin_own_password_change(const directory::ResolvedUser& who,
                                              const Caller& caller,
                                              const std::string& service)
{
    Context& c = *ctx_;
    const std::string logon_name = who.user.name + "@" + who.account.default_domain;
    if (const auto why = root_refusal(c.directory, c.store, logon_name))
        return {verdict(Outcome::denied, why->message), nullptr};
    return begin_change_of(c, proto::PasswordChangeBegin{service, logon_name, false}, caller, who);
}

Started engine::begin_change_of(AuthEngine::Context& c,
                                const proto::PasswordChangeBegin& request,
                                const Caller& caller,
                                directory::ResolvedUser who)
{
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
        return {
            verdict(Outcome::denied, "You have no password yet; ask an administrator to set one."),
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
        messages.push_back(
            line(PromptStyle::info, expired ? "Your password has expired."
                                            : "You are required to change your password."));
    messages.push_back(line(PromptStyle::info, "Changing password for " + who.user.name + "."));
    return {prompt(PromptKind::current_password, PromptStyle::echo_off,
                   "Current password: ", std::move(messages)),
            password_change_dialogue(c, request, caller, std::move(who))};
}

Started AuthEngine::begin_required_change(const directory::ResolvedUser& who,
                                          const Caller& caller,
                                          const std::string& service,
                                          const std::string& reason)
{
    return required_change_dialogue(*ctx_, proto::PasswordChangeBegin{service, who.user.name, true},
                                    caller, who, reason);
}

proto::Verdict AuthEngine::check_account(const proto::AccountCheck& request, const Caller& caller)
{
    Context& c = *ctx_;
    const auto v = [](Outcome o, std::string m = {}) {
        return proto::Verdict{o, std::move(m), {}};
    };
    if (!c.may_ask(caller, request.user))
        return v(Outcome::permission_denied, "only root may check a user other than the caller");
    if (const auto why = root_refusal(c.directory, c.store, request.user))
        return v(Outcome::denied, why->message);
    auto found = find_host_user(c.directory, request.user);
    if (!found)
        return v(Outcome::unavailable, lookup_failure(found.error(), request.user));
    if (!*found)
        return request.ignore_unknown_user ? v(Outcome::ignore)
                                           : v(Outcome::denied, "unknown user");
    return check_user(**found);
}

proto::Verdict AuthEngine::check_user(const directory::ResolvedUser& who)
{
    Context& c = *ctx_;
    const auto v = [](Outcome o, std::string m = {}) {
        return proto::Verdict{o, std::move(m), {}};
    };
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
    LATCHKEY_TRY(found, caller_user(c.directory, caller));
    LATCHKEY_TRY_STATUS(own_mfa_change(c, found, password, caller, "latchkeyctl", "mfa.enroll.deny"));
    return c.mfa.start(found);
}

core::Result<PendingEnrolment> AuthEngine::begin_own_enrolment(const directory::ResolvedUser& who,
                                                               const core::Secret& password,
                                                               const Caller& caller)
{
    Context& c = *ctx_;
    LATCHKEY_TRY_STATUS(own_mfa_change(c, who, password, caller, "oidc", "mfa.enroll.deny"));
    return c.mfa.start(who);
}

core::Result<proto::MfaChallenge> AuthEngine::enrolment_challenge(const PendingEnrolment& pending)
{
    return ctx_->mfa.challenge(pending);
}

core::Result<proto::MfaEnrolled> AuthEngine::finish_own_enrolment(PendingEnrolment& pending,
                                                                  const core::Secret& first,
                                                                  const core::Secret& second)
{
    return ctx_->mfa.confirm(pending, first, second, "self " + pending.who.user.name);
}

core::Status AuthEngine::remove_own_mfa(const directory::ResolvedUser& who,
                                        const core::Secret& password,
                                        const Caller& caller,
                                        bool has_passkeys)
{
    Context& c = *ctx_;
    LATCHKEY_TRY_STATUS(own_mfa_change(c, who, password, caller, "oidc", "mfa.remove.deny"));
    if (Mfa::required(who.account, who.user) && !has_passkeys)
        return core::fail(core::Errc::failed_precondition,
                          "your account requires a second factor and this app is your only one: "
                          "add a passkey first");
    return c.mfa.remove(who, "self " + who.user.name);
}

core::Result<HostKeyEnrolment> AuthEngine::begin_host_key(const directory::ResolvedUser& who)
{
    Context& c = *ctx_;
    LATCHKEY_TRY(stored, c.store.passkeys(who.user.id));
    if (stored.size() >= c.host_keys.max_per_user)
        return core::fail(core::Errc::policy_violation,
                          who.user.name + " has " + std::to_string(stored.size()) +
                              " passkeys, the most allowed: remove one first");
    LATCHKEY_TRY(found, c.store.directory());
    if (!found)
        return core::fail(core::Errc::failed_precondition, "the directory is not initialised");
    LATCHKEY_TRY(handle,
                 c.store.user_handle(who.user.id, core::random_string(webauthn::user_handle_size)));
    const std::string name = who.user.name + "@" + who.account.default_domain;
    const bool uv = c.host_keys.user_verification == webauthn::UserVerification::required;
    HostKeyEnrolment e{who,
                       host_registration(host_relying_party(c.host_keys, found->domain),
                                         c.host_keys, name, who.user.display_name, handle,
                                         keys_for(std::move(stored), directory::PasskeyParty::host),
                                         uv, c.clock.now())};
    return e;
}

core::Result<HostKeyEnrolment> AuthEngine::begin_own_host_key(const Caller& caller,
                                                              const core::Secret& password)
{
    Context& c = *ctx_;
    LATCHKEY_TRY(found, caller_user(c.directory, caller));
    LATCHKEY_TRY_STATUS(
        own_mfa_change(c, found, password, caller, "latchkeyctl", "passkey.register.deny"));
    return begin_host_key(found);
}

core::Result<proto::PasskeyInfo> AuthEngine::finish_host_key(const HostKeyEnrolment& enrolment,
                                                             const proto::SecurityKeyResult& result,
                                                             std::string_view name)
{
    Context& c = *ctx_;
    if (!result.problem.empty()) {
        const auto problem = proto::problem_named(result.problem);
        return core::fail(core::Error(problem, std::string(proto::problem_message(problem))));
    }
    PasskeySettings limits;
    limits.max_passkeys_per_user = c.host_keys.max_per_user;
    return c.passkeys.finish_registration(enrolment.who, enrolment.ceremony.pending,
                                          result.response, name, limits, c.clock.now(),
                                          directory::PasskeyParty::host);
}

proto::Response answer_key_finish(AuthEngine& engine,
                                  std::optional<HostKeyEnrolment>& enrolment,
                                  const proto::KeyEnrolFinish& m)
{
    if (!enrolment)
        return proto::failure({core::Errc::failed_precondition,
                               "no security key enrolment is in progress on this connection"});
    const HostKeyEnrolment e = std::move(*enrolment);
    enrolment.reset();
    auto added = engine.finish_host_key(e, m.result, m.name);
    if (!added)
        return proto::failure(added.error());
    return proto::PasskeyReply{std::move(*added)};
}

core::Status engine::own_mfa_change(AuthEngine::Context& c,
                                    const directory::ResolvedUser& who,
                                    const core::Secret& password,
                                    const Caller& caller,
                                    const std::string& service,
                                    const std::string& deny_event)
{
    const auto refuse = [&](std::string reason, core::Errc code, std::string message) {
        c.record(directory::Severity::warning, deny_event, caller, service, who.user.name,
                 std::nullopt, std::move(reason), {{"account", who.account.name}});
        return core::fail(code, std::move(message));
    };
    if (!who.account.settings.allow_manage_mfa)
        return refuse("not_allowed", core::Errc::permission_denied,
                      "managing your own MFA device is not allowed on this account; ask an "
                      "administrator");
    if (c.locked_now(who))
        return refuse("locked", core::Errc::permission_denied,
                      "the account is locked after too many failed logons");
    const auto ok = who.user.password_hash.empty()
                        ? core::Result<bool>(false)
                        : c.hasher.verify(who.user.password_hash, password);
    if (!ok)
        return core::fail(ok.error());
    if (!*ok) {
        c.count_failure(who, caller, service);
        return refuse("bad_password", core::Errc::permission_denied,
                      "wrong password; nothing was changed");
    }
    return {};
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
