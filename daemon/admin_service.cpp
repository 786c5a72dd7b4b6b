// SPDX-License-Identifier: Apache-2.0
// Admin request dispatch: who may ask (Authority), then the component that answers.
#include "daemon/admin_service.hpp"

#include <algorithm>
#include <type_traits>

#include "daemon/hello.hpp"
#include "core/log.hpp"
#include "proto/wire.hpp"

namespace latchkey::daemon {

namespace {

using core::Errc;

template <class T, class Wrap>
proto::Response reply(core::Result<T>&& r, Wrap wrap)
{
    if (!r)
        return proto::failure(r.error());
    return wrap(std::move(*r));
}

proto::Response reply(core::Result<proto::UserReply>&& r)
{
    if (!r)
        return proto::failure(r.error());
    return std::move(*r);
}

template <class T>
proto::Response reply(core::Result<T>&& r)
{
    if (!r)
        return proto::failure(r.error());
    return proto::Response{std::move(*r)};
}

proto::Response user_reply(core::Result<proto::UserInfo>&& r)
{
    return reply(std::move(r), [](auto u) { return proto::UserReply{u, {}}; });
}

proto::Response account_reply(core::Result<proto::AccountInfo>&& r)
{
    return reply(std::move(r), [](auto a) { return proto::AccountReply{a}; });
}

template <class T>
constexpr bool is_oidc_request =
    std::is_same_v<T, proto::OidcClientAdd> || std::is_same_v<T, proto::OidcClientList> ||
    std::is_same_v<T, proto::OidcClientShow> || std::is_same_v<T, proto::OidcClientRemove> ||
    std::is_same_v<T, proto::OidcRotateKeys>;

#define LATCHKEY_ALLOW(expr)                                                                      \
    do {                                                                                          \
        if (auto allowed_ = (expr); !allowed_)                                                    \
            return proto::failure(allowed_.error());                                              \
    } while (false)

struct Dispatch {
    AdminServices& s;
    std::optional<credentials::PendingEnrolment>&
        enrolment; ///< this connection's, between enroll and confirm
    const directory::Principal& who;
    /// This connection's security key enrolment, between its ceremony and the key's answer.
    std::optional<credentials::HostKeyEnrolment>& key_enrolment;

    directory::Actor actor() const { return directory::Actor{who.actor}; }

    /// The account a user reference names (the user need not exist), for the checks.
    core::Result<directory::AccountRecord> account_of(const proto::UserRef& ref) const
    {
        LATCHKEY_TRY(located, s.directory.locate(ref));
        return std::move(located.first);
    }

    /// Whether a request reads or changes what it names: a closed account takes no changes.
    enum class Access : std::uint8_t { read, change };

    static core::Status open_for(const directory::AccountRecord& a, Access access)
    {
        if (access == Access::change && a.closed_at)
            return core::fail(Errc::failed_precondition, "account " + a.name + " is closed");
        return {};
    }

    core::Status may_admin_account(const std::optional<std::string>& account,
                                   std::string_view task, Access access) const
    {
        LATCHKEY_TRY(a, s.directory.account(account));
        LATCHKEY_TRY_STATUS(s.authority.need_account_admin(who, a, task));
        return open_for(a, access);
    }

    core::Status may_admin_account_of(const proto::UserRef& ref, std::string_view task,
                                      Access access) const
    {
        LATCHKEY_TRY(a, account_of(ref));
        LATCHKEY_TRY_STATUS(s.authority.need_account_admin(who, a, task));
        return open_for(a, access);
    }

    core::Status may_admin_user(const proto::UserRef& ref, std::string_view task,
                                Access access) const
    {
        auto target = s.directory.resolve(ref);
        if (!target) // a user that does not exist: its account's administrators may ask
            return may_admin_account_of(ref, task, access);
        LATCHKEY_TRY_STATUS(s.authority.need_user_admin(who, *target, task));
        return open_for(target->account, access);
    }

    core::Status may_admin_resolved(const directory::ResolvedUser& target,
                                    std::string_view task) const
    {
        LATCHKEY_TRY_STATUS(s.authority.need_user_admin(who, target, task));
        return open_for(target.account, Access::change);
    }

    core::Status may_admin_key(const std::string& id, std::string_view task) const
    {
        LATCHKEY_TRY(key, s.store.access_key(id));
        if (!key) // the same answer as for a key of another account: nothing to probe
            return s.authority.need_directory_admin(who, task);
        LATCHKEY_TRY(u, s.store.user_by_id(key->user_id));
        if (!u)
            return s.authority.need_directory_admin(who, task);
        LATCHKEY_TRY(a, s.store.account_by_id(u->account_id));
        if (!a)
            return s.authority.need_directory_admin(who, task);
        return s.authority.need_user_admin(who, directory::ResolvedUser{*a, *u}, task);
    }

    proto::Response operator()(proto::Hello& m) const { return answer_hello(m); }

    proto::Response operator()(proto::DirectoryInit& m) const
    {
        if (who.user || who.signed_out)
            return proto::failure({Errc::permission_denied,
                                   "permission denied: the directory is created by root on the "
                                   "admin socket"});
        return reply(s.directory.init(m, actor()), [](auto d) { return proto::DirectoryReply{d}; });
    }

    proto::Response operator()(proto::DirectoryShow&) const
    {
        LATCHKEY_ALLOW(s.authority.need_some_admin(who, "showing the directory"));
        return reply(s.directory.show(), [](auto d) { return proto::DirectoryReply{d}; });
    }

    proto::Response operator()(proto::AccountCreate& m) const
    {
        LATCHKEY_ALLOW(s.authority.need_directory_admin(who, "creating an account"));
        return account_reply(s.directory.create_account(m, actor()));
    }

    proto::Response operator()(proto::AccountList&) const
    {
        LATCHKEY_ALLOW(s.authority.need_some_admin(who, "listing accounts"));
        return reply(s.directory.list_accounts(),
                     [](auto a) { return proto::AccountListReply{a}; });
    }

    proto::Response operator()(proto::AccountShow& m) const
    {
        LATCHKEY_ALLOW(may_admin_account(m.account, "showing an account", Access::read));
        return account_reply(s.directory.show_account(m.account));
    }

    proto::Response operator()(proto::AccountAlias& m) const
    {
        LATCHKEY_ALLOW(s.authority.need_directory_admin(who, "changing logon domains"));
        return account_reply(s.directory.alias(m, actor()));
    }

    proto::Response operator()(proto::UserCreate& m) const
    {
        LATCHKEY_ALLOW(may_admin_account_of(m.ref, "creating a user", Access::change));
        return user_reply(s.directory.create_user(m, actor()));
    }

    proto::Response operator()(proto::UserList& m) const
    {
        if (m.account)
            LATCHKEY_ALLOW(may_admin_account(m.account, "listing users", Access::read));
        else
            LATCHKEY_ALLOW(s.authority.need_directory_admin(who, "listing every user"));
        return reply(s.directory.list_users(m.account),
                     [](auto u) { return proto::UserListReply{u}; });
    }

    proto::Response operator()(proto::UserShow& m) const
    {
        LATCHKEY_ALLOW(may_admin_account_of(m.ref, "showing a user", Access::read));
        auto user = s.directory.show_user(m.ref);
        if (user) {
            auto passkeys = s.passkeys.list(m.ref);
            if (!passkeys)
                return proto::failure(passkeys.error());
            user->passkeys = std::move(*passkeys);
        }
        return user_reply(std::move(user));
    }

    proto::Response operator()(proto::UserDelete& m) const
    {
        LATCHKEY_ALLOW(may_admin_user(m.ref, "deleting a user", Access::change));
        const auto r = s.directory.delete_user(m.ref, actor());
        if (!r)
            return proto::failure(r.error());
        return proto::Done{"deleted user " + m.ref.user};
    }

    proto::Response operator()(proto::UserSetLogon& m) const
    {
        LATCHKEY_ALLOW(may_admin_user(m.ref, "enabling or disabling console logon", Access::change));
        return user_reply(s.directory.set_console_logon(m.ref, m.enabled, actor()));
    }

    proto::Response operator()(proto::UserSetEmail& m) const
    {
        LATCHKEY_ALLOW(may_admin_user(m.ref, "setting the email", Access::change));
        return user_reply(s.directory.set_email(m, actor()));
    }

    proto::Response operator()(proto::UserSetUnix& m) const
    {
        LATCHKEY_ALLOW(may_admin_user(m.ref, m.attribute == proto::UnixAttribute::shell
                                                 ? "setting the shell"
                                                 : "setting the home directory",
                                      Access::change));
        return user_reply(s.directory.set_unix(m, actor()));
    }

    proto::Response operator()(proto::UserSetPassword& m) const
    {
        LATCHKEY_ALLOW(may_admin_user(m.ref, "resetting the password", Access::change));
        return reply(s.passwords.reset(m, actor()));
    }

    proto::Response operator()(proto::PolicyShow& m) const
    {
        LATCHKEY_ALLOW(may_admin_account(m.account, "showing the password policy", Access::read));
        return reply(s.directory.policy(m.account), [](auto p) { return p; });
    }

    proto::Response operator()(proto::PolicySet& m) const
    {
        LATCHKEY_ALLOW(may_admin_account(m.account, "setting the password policy", Access::change));
        return reply(s.directory.set_policy(m, actor()), [](auto p) { return p; });
    }

    proto::Response operator()(proto::SettingsShow& m) const
    {
        LATCHKEY_ALLOW(may_admin_account(m.account, "showing the security settings", Access::read));
        return reply(s.directory.settings(m.account), [](auto x) { return x; });
    }

    proto::Response operator()(proto::SettingsSet& m) const
    {
        LATCHKEY_ALLOW(may_admin_account(m.account, "changing the security settings", Access::change));
        return reply(s.directory.set_settings(m, actor()), [](auto x) { return x; });
    }

    proto::Response operator()(proto::UserUnlock& m) const
    {
        LATCHKEY_ALLOW(may_admin_user(m.ref, "unlocking a user", Access::change));
        return user_reply(s.directory.unlock(m.ref, actor()));
    }

    proto::Response operator()(proto::SessionList& m) const
    {
        if (m.user)
            LATCHKEY_ALLOW(may_admin_user({*m.user, std::nullopt}, "listing sessions", Access::read));
        else
            LATCHKEY_ALLOW(s.authority.need_directory_admin(who, "listing every session"));
        return reply(s.directory.sessions(m.user),
                     [](auto x) { return proto::SessionListReply{x}; });
    }

    proto::Response operator()(proto::SessionEnd& m) const
    {
        if (m.user && !m.id)
            LATCHKEY_ALLOW(may_admin_user({*m.user, std::nullopt}, "ending sessions", Access::read));
        else
            LATCHKEY_ALLOW(s.authority.need_directory_admin(who, "ending a session by id"));
        return reply(s.directory.end_sessions(m, actor()), [](const auto& ended) {
            if (ended.empty())
                return proto::Done{"no open session to end"};
            std::string text = "ended " + std::to_string(ended.size()) +
                               (ended.size() == 1 ? " session:" : " sessions:");
            for (const auto& x : ended)
                text += "\n  " + x.id + "  " + x.user + "  " + x.service;
            return proto::Done{std::move(text)};
        });
    }

    proto::Response operator()(proto::AuditList& m) const
    {
        LATCHKEY_ALLOW(s.authority.need_directory_admin(who, "reading the audit trail"));
        return reply(s.directory.audit(m), [](auto e) { return proto::AuditListReply{e}; });
    }

    proto::Response operator()(proto::MfaEnroll& m) const
    {
        enrolment.reset();
        if (!m.ref)
            return proto::failure({Errc::invalid_argument,
                                   "name the user to enrol (self-service enrolment uses the PAM "
                                   "socket)"});
        auto target = s.directory.resolve(*m.ref);
        if (!target)
            return proto::failure(target.error());
        LATCHKEY_ALLOW(may_admin_resolved(*target, "enrolling an MFA device"));
        auto pending = s.mfa.start(*target);
        if (!pending)
            return proto::failure(pending.error());
        auto challenge = s.mfa.challenge(*pending);
        if (!challenge)
            return proto::failure(challenge.error());
        enrolment = std::move(*pending);
        return std::move(*challenge);
    }

    proto::Response operator()(proto::MfaConfirm& m) const
    {
        return answer_confirm(s.mfa, enrolment, m, who.actor);
    }

    proto::Response operator()(proto::AccessKeyCreate& m) const
    {
        LATCHKEY_ALLOW(may_admin_user(m.ref, "creating an access key", Access::change));
        return reply(s.keys.create(m.ref, actor()), [](auto r) { return r; });
    }

    proto::Response operator()(proto::AccessKeyList& m) const
    {
        if (m.ref)
            LATCHKEY_ALLOW(may_admin_account_of(*m.ref, "listing access keys", Access::read));
        else
            LATCHKEY_ALLOW(s.authority.need_directory_admin(who, "listing every access key"));
        return reply(s.keys.list(m.ref), [](auto k) { return proto::AccessKeyListReply{k}; });
    }

    proto::Response operator()(proto::AccessKeySetEnabled& m) const
    {
        LATCHKEY_ALLOW(may_admin_key(m.id, "enabling or disabling an access key"));
        return reply(s.keys.set_enabled(m.id, m.enabled, actor()),
                     [](auto k) { return proto::AccessKeyReply{k, std::nullopt}; });
    }

    proto::Response operator()(proto::AccessKeyDelete& m) const
    {
        LATCHKEY_ALLOW(may_admin_key(m.id, "deleting an access key"));
        if (auto st = s.keys.remove(m.id, actor()); !st)
            return proto::failure(st.error());
        return proto::Done{"deleted access key " + m.id};
    }

    proto::Response operator()(proto::PasskeyList& m) const
    {
        LATCHKEY_ALLOW(may_admin_account_of(m.ref, "listing passkeys", Access::read));
        return reply(s.passkeys.list(m.ref), [](auto p) { return proto::PasskeyListReply{p}; });
    }

    proto::Response operator()(proto::KeyEnrol& m) const
    {
        key_enrolment.reset();
        if (!m.ref)
            return proto::failure({Errc::invalid_argument,
                                   "name the user whose security key to enrol (for yourself, "
                                   "enrol through the PAM socket)"});
        auto target = s.directory.resolve(*m.ref);
        if (!target)
            return proto::failure(target.error());
        LATCHKEY_ALLOW(may_admin_resolved(*target, "enrolling a security key"));
        auto started = s.engine.begin_host_key(*target);
        if (!started)
            return proto::failure(started.error());
        proto::KeyEnrolCeremony reply{started->ceremony.ceremony.user_name,
                                      started->ceremony.ceremony};
        key_enrolment = std::move(*started);
        return reply;
    }

    proto::Response operator()(proto::KeyEnrolFinish& m) const
    {
        return answer_key_finish(s.engine, key_enrolment, m);
    }

    proto::Response operator()(proto::PasskeyRemove& m) const
    {
        LATCHKEY_ALLOW(may_admin_user(m.ref, "removing a passkey", Access::change));
        if (auto st = s.passkeys.remove(m.ref, m.id, actor()); !st)
            return proto::failure(st.error());
        return proto::Done{"removed passkey " + m.id};
    }

    proto::Response operator()(proto::MfaList& m) const
    {
        std::optional<directory::ResolvedUser> target;
        if (m.ref) {
            auto r = s.directory.resolve(*m.ref);
            if (!r)
                return proto::failure(r.error());
            LATCHKEY_ALLOW(s.authority.need_account_admin(who, r->account, "listing MFA devices"));
            target = std::move(*r);
        } else {
            LATCHKEY_ALLOW(s.authority.need_directory_admin(who, "listing every MFA device"));
        }
        return reply(s.mfa.list(target), [](auto d) { return proto::MfaListReply{d}; });
    }

    proto::Response operator()(proto::MfaRemove& m) const
    {
        auto target = s.directory.resolve(m.ref);
        if (!target)
            return proto::failure(target.error());
        LATCHKEY_ALLOW(may_admin_resolved(*target, "removing an MFA device"));
        if (auto st = s.mfa.remove(*target, who.actor); !st)
            return proto::failure(st.error());
        return proto::Done{"removed the MFA device of " + target->user.name + "@" +
                           target->account.default_domain};
    }

    proto::Response operator()(proto::MfaRecoveryCodes& m) const
    {
        auto target = s.directory.resolve(m.ref);
        if (!target)
            return proto::failure(target.error());
        LATCHKEY_ALLOW(may_admin_resolved(*target, "making new recovery codes"));
        const std::string name = target->user.name + "@" + target->account.default_domain;
        return reply(s.mfa.new_recovery_codes(*target, who.actor), [&](auto codes) {
            return proto::MfaRecoveryCodesReply{name, std::move(codes)};
        });
    }

    // ---- roles and the account lifecycle (the Lifecycle checks who may) -----------------

    proto::Response operator()(proto::RoleGrant& m) const
    {
        return reply(s.lifecycle.grant_role(m, who));
    }

    proto::Response operator()(proto::RoleRevoke& m) const
    {
        return reply(s.lifecycle.revoke_role(m, who));
    }

    proto::Response operator()(proto::RoleList& m) const
    {
        return reply(s.lifecycle.roles(m, who), [](auto r) { return proto::RoleListReply{r}; });
    }

    proto::Response operator()(proto::PhoneBind& m) const
    {
        return reply(s.codes.phone_bind(m, who));
    }

    proto::Response operator()(proto::PhoneVerify& m) const
    {
        return account_reply(s.codes.phone_verify(m, who));
    }

    proto::Response operator()(proto::AccountSwitch& m) const
    {
        return account_reply(s.lifecycle.switch_kind(m, who));
    }

    proto::Response operator()(proto::RootRecover& m) const
    {
        auto r = s.codes.root_recover(m, who);
        if (!r)
            return proto::failure(r.error());
        return std::move(*r);
    }

    proto::Response operator()(proto::RootRemoveCredentials& m) const
    {
        return account_reply(s.lifecycle.remove_root_credentials(m.account, who));
    }

    proto::Response operator()(proto::RootAllowRecovery& m) const
    {
        return account_reply(s.lifecycle.allow_recovery(m, who));
    }

    proto::Response operator()(proto::RootAccessSet& m) const
    {
        return reply(s.lifecycle.set_root_access(m.enabled, who),
                     [](auto d) { return proto::DirectoryReply{d}; });
    }

    proto::Response operator()(proto::RootAccessShow&) const
    {
        LATCHKEY_ALLOW(s.authority.need_some_admin(who, "showing centralized root access"));
        return reply(s.lifecycle.root_access());
    }

    proto::Response operator()(proto::AccountClose& m) const
    {
        return account_reply(s.lifecycle.close(m.account, who));
    }

    proto::Response operator()(proto::AccountRestoreAdmin& m) const
    {
        return reply(s.lifecycle.restore_admin(m, who));
    }

    proto::Response operator()(proto::AccountClearNetworks& m) const
    {
        return reply(s.lifecycle.clear_logon_networks(m.account, who));
    }

    /// The logon dialogue belongs on the PAM socket, where the caller's uid limits it (the
    /// admin connection takes auth.begin itself, to sign in); the provider's requests go to
    /// the provider.
    template <class Other>
    proto::Response operator()([[maybe_unused]] Other& m) const
    {
        if constexpr (is_oidc_request<Other>) {
            LATCHKEY_ALLOW(s.authority.need_directory_admin(who, "administering OpenID Connect"));
            if (s.oidc == nullptr)
                return proto::failure({Errc::failed_precondition,
                                       "the OpenID Connect provider is off: set [oidc] listen in "
                                       "latchkey.toml"});
            proto::Request forwarded{std::move(m)};
            return s.oidc->handle(forwarded, actor());
        }
        using PamOnly = Other;
        return proto::failure({Errc::permission_denied,
                               "'" + std::string(PamOnly::type) +
                                   "' is not available on the admin socket; use the PAM socket"});
    }
};

/// `latchkeyctl --as USER`: the engine's own logon dialogue (password, MFA, enrolment of root's
/// first device), service "latchkeyctl", across the directory.
constexpr std::string_view sign_in_service = "latchkeyctl";

class AdminConnection final : public Connection {
public:
    AdminConnection(AdminServices services, Peer peer, std::chrono::seconds answer_timeout)
        : s_(services)
        , peer_(std::move(peer))
        , answer_timeout_(answer_timeout)
        , principal_{peer_.actor(), std::nullopt, false}
    {
    }

    bool is_slow(const proto::Request& request) const override
    {
        if (std::holds_alternative<proto::AuthAnswer>(request))
            return !dialogue_ || dialogue_->answer_is_slow();
        return true;
    }

    proto::Response handle(proto::Request&& request) override
    {
        core::log::debug("admin request from " + principal_.actor + ": " + proto::to_log_string(request));
        if (auto* begin = std::get_if<proto::AuthBegin>(&request))
            return sign_in(*begin);
        if (auto* answer = std::get_if<proto::AuthAnswer>(&request))
            return on_answer(*answer);
        if (dialogue_)
            return proto::failure({Errc::failed_precondition,
                                   "finish signing in before anything else"});
        return std::visit(Dispatch{s_, enrolment_, principal_, key_enrolment_}, request);
    }

    std::chrono::seconds idle_timeout(std::chrono::seconds normal) const override
    {
        // Between an enrolment's challenge and its codes, a person reads two codes off a phone.
        return enrolment_ || key_enrolment_ || dialogue_ ? std::max(normal, answer_timeout_)
                                                         : normal;
    }

private:
    proto::Response sign_in(const proto::AuthBegin& m)
    {
        // Fail closed: from here on this connection has no rights until the dialogue succeeds.
        principal_ = directory::Principal{peer_.actor(), std::nullopt, true};
        dialogue_.reset();
        enrolment_.reset();
        key_enrolment_.reset();
        if (m.user.find('@') == std::string::npos)
            return proto::failure({Errc::invalid_argument,
                                   "sign in with a logon name, user@domain"});
        user_ = m.user;
        credentials::LogonRequest r{
            std::string(sign_in_service), m.user, std::nullopt, std::nullopt, false, false, true};
        credentials::Started started =
            s_.engine.begin_logon(r, credentials::Caller{std::nullopt, peer_.pid, "admin"});
        return step(std::move(started.step), std::move(started.dialogue));
    }

    proto::Response on_answer(proto::AuthAnswer& m)
    {
        if (!dialogue_)
            return proto::failure({Errc::failed_precondition,
                                   "no sign-in is in progress on this connection"});
        credentials::Step next = dialogue_->answer(std::move(m.answer));
        return step(std::move(next), std::move(dialogue_));
    }

    proto::Response step(credentials::Step next, std::unique_ptr<credentials::Dialogue> dialogue)
    {
        if (next.prompt) {
            dialogue_ = std::move(dialogue);
            return next;
        }
        dialogue_.reset();
        if (next.verdict && next.verdict->outcome == proto::Outcome::success) {
            auto who = s_.directory.resolve({user_, std::nullopt});
            if (!who)
                return proto::failure(who.error());
            // What acct_mgmt would refuse, the admin socket refuses too: a password to change
            // first is changed through PAM or the sign-in pages, not skipped here.
            const auto account = s_.engine.check_user(*who);
            if (account.outcome != proto::Outcome::success)
                return proto::AuthReply{{}, std::nullopt, account};
            principal_ = directory::Principal{who->user.name + "@" + who->account.default_domain,
                                              std::move(*who), false};
        }
        return next;
    }

    AdminServices s_;
    Peer peer_;
    std::chrono::seconds answer_timeout_;
    directory::Principal principal_;
    std::string user_;
    std::unique_ptr<credentials::Dialogue> dialogue_;
    std::optional<credentials::PendingEnrolment> enrolment_;
    std::optional<credentials::HostKeyEnrolment> key_enrolment_;
};

} // namespace

ConnectionFactory admin_connections(AdminServices services, AdminAccess access)
{
    return [services, access](const Peer& peer) -> core::Result<std::unique_ptr<Connection>> {
        if (!access.admits(peer))
            return core::fail(Errc::permission_denied,
                              "permission denied: the admin socket is for root and members of "
                              "the group " + access.admin_group);
        return std::unique_ptr<Connection>(
            new AdminConnection(services, peer, access.answer_timeout));
    };
}

} // namespace latchkey::daemon
