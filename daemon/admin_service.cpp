// SPDX-License-Identifier: Apache-2.0
// Admin request dispatch.
#include "daemon/admin_service.hpp"

#include <algorithm>
#include <type_traits>

#include "daemon/hello.hpp"
#include "daemon/log.hpp"
#include "proto/wire.hpp"

namespace latchkey::daemon {

namespace {

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
constexpr bool is_oidc_request =
    std::is_same_v<T, proto::OidcClientAdd> || std::is_same_v<T, proto::OidcClientList> ||
    std::is_same_v<T, proto::OidcClientShow> || std::is_same_v<T, proto::OidcClientRemove> ||
    std::is_same_v<T, proto::OidcRotateKeys>;

struct Dispatch {
    Directory& dir;
    Mfa& mfa;
    AccessKeys& keys;
    OidcAdmin* oidc;
    std::optional<PendingEnrolment>& enrolment; ///< this connection's, between enroll and confirm
    const Actor actor;

    proto::Response operator()(proto::Hello& m) const { return answer_hello(m); }

    proto::Response operator()(proto::DirectoryInit& m) const
    {
        return reply(dir.init(m, actor), [](auto d) { return proto::DirectoryReply{d}; });
    }

    proto::Response operator()(proto::DirectoryShow&) const
    {
        return reply(dir.show(), [](auto d) { return proto::DirectoryReply{d}; });
    }

    proto::Response operator()(proto::AccountCreate& m) const
    {
        return reply(dir.create_account(m, actor), [](auto a) { return proto::AccountReply{a}; });
    }

    proto::Response operator()(proto::AccountList&) const
    {
        return reply(dir.list_accounts(), [](auto a) { return proto::AccountListReply{a}; });
    }

    proto::Response operator()(proto::AccountShow& m) const
    {
        return reply(dir.show_account(m.account), [](auto a) { return proto::AccountReply{a}; });
    }

    proto::Response operator()(proto::AccountAlias& m) const
    {
        return reply(dir.alias(m, actor), [](auto a) { return proto::AccountReply{a}; });
    }

    proto::Response operator()(proto::UserCreate& m) const
    {
        return reply(dir.create_user(m, actor), [](auto u) { return proto::UserReply{u, {}}; });
    }

    proto::Response operator()(proto::UserList& m) const
    {
        return reply(dir.list_users(m.account), [](auto u) { return proto::UserListReply{u}; });
    }

    proto::Response operator()(proto::UserShow& m) const
    {
        return reply(dir.show_user(m.ref), [](auto u) { return proto::UserReply{u, {}}; });
    }

    proto::Response operator()(proto::UserDelete& m) const
    {
        const auto r = dir.delete_user(m.ref, actor);
        if (!r)
            return proto::failure(r.error());
        return proto::Done{"deleted user " + m.ref.user};
    }

    proto::Response operator()(proto::UserSetLogon& m) const
    {
        return reply(dir.set_console_logon(m.ref, m.enabled, actor),
                     [](auto u) { return proto::UserReply{u, {}}; });
    }

    proto::Response operator()(proto::UserSetEmail& m) const
    {
        return reply(dir.set_email(m, actor), [](auto u) { return proto::UserReply{u, {}}; });
    }

    proto::Response operator()(proto::UserSetPassword& m) const
    {
        return reply(dir.set_password(m, actor));
    }

    proto::Response operator()(proto::PolicyShow& m) const
    {
        return reply(dir.policy(m.account), [](auto p) { return p; });
    }

    proto::Response operator()(proto::PolicySet& m) const
    {
        return reply(dir.set_policy(m, actor), [](auto p) { return p; });
    }

    proto::Response operator()(proto::SettingsShow& m) const
    {
        return reply(dir.settings(m.account), [](auto s) { return s; });
    }

    proto::Response operator()(proto::SettingsSet& m) const
    {
        return reply(dir.set_settings(m, actor), [](auto s) { return s; });
    }

    proto::Response operator()(proto::UserUnlock& m) const
    {
        return reply(dir.unlock(m.ref, actor), [](auto u) { return proto::UserReply{u, {}}; });
    }

    proto::Response operator()(proto::SessionList& m) const
    {
        return reply(dir.sessions(m.user), [](auto s) { return proto::SessionListReply{s}; });
    }

    proto::Response operator()(proto::SessionEnd& m) const
    {
        return reply(dir.end_sessions(m, actor), [](const auto& ended) {
            if (ended.empty())
                return proto::Done{"no open session to end"};
            std::string text = "ended " + std::to_string(ended.size()) +
                               (ended.size() == 1 ? " session:" : " sessions:");
            for (const auto& s : ended)
                text += "\n  " + s.id + "  " + s.user + "  " + s.service;
            return proto::Done{std::move(text)};
        });
    }

    proto::Response operator()(proto::AuditList& m) const
    {
        return reply(dir.audit(m), [](auto e) { return proto::AuditListReply{e}; });
    }

    proto::Response operator()(proto::MfaEnroll& m) const
    {
        enrolment.reset();
        if (!m.ref)
            return proto::failure({core::Errc::invalid_argument,
                                   "name the user to enrol (self-service enrolment uses the PAM "
                                   "socket)"});
        auto who = dir.resolve(*m.ref);
        if (!who)
            return proto::failure(who.error());
        auto pending = mfa.start(*who);
        if (!pending)
            return proto::failure(pending.error());
        auto challenge = mfa.challenge(*pending);
        if (!challenge)
            return proto::failure(challenge.error());
        enrolment = std::move(*pending);
        return std::move(*challenge);
    }

    proto::Response operator()(proto::MfaConfirm& m) const
    {
        return answer_confirm(mfa, enrolment, m, actor.name);
    }

    proto::Response operator()(proto::AccessKeyCreate& m) const
    {
        return reply(keys.create(m.ref, actor), [](auto r) { return r; });
    }

    proto::Response operator()(proto::AccessKeyList& m) const
    {
        return reply(keys.list(m.ref), [](auto k) { return proto::AccessKeyListReply{k}; });
    }

    proto::Response operator()(proto::AccessKeySetEnabled& m) const
    {
        return reply(keys.set_enabled(m.id, m.enabled, actor),
                     [](auto k) { return proto::AccessKeyReply{k, std::nullopt}; });
    }

    proto::Response operator()(proto::AccessKeyDelete& m) const
    {
        if (auto st = keys.remove(m.id, actor); !st)
            return proto::failure(st.error());
        return proto::Done{"deleted access key " + m.id};
    }

    proto::Response operator()(proto::MfaList& m) const
    {
        std::optional<ResolvedUser> who;
        if (m.ref) {
            auto r = dir.resolve(*m.ref);
            if (!r)
                return proto::failure(r.error());
            who = std::move(*r);
        }
        return reply(mfa.list(who), [](auto d) { return proto::MfaListReply{d}; });
    }

    proto::Response operator()(proto::MfaRemove& m) const
    {
        auto who = dir.resolve(m.ref);
        if (!who)
            return proto::failure(who.error());
        if (auto st = mfa.remove(*who, actor.name); !st)
            return proto::failure(st.error());
        return proto::Done{"removed the MFA device of " + who->user.name + "@" +
                           who->account.default_domain};
    }

    proto::Response operator()(proto::MfaRecoveryCodes& m) const
    {
        auto who = dir.resolve(m.ref);
        if (!who)
            return proto::failure(who.error());
        const std::string name = who->user.name + "@" + who->account.default_domain;
        return reply(mfa.new_recovery_codes(*who, actor.name), [&](auto codes) {
            return proto::MfaRecoveryCodesReply{name, std::move(codes)};
        });
    }

    /// The logon dialogue belongs on the PAM socket, where the caller's uid limits it; the
    /// provider's requests go to the provider.
    template <class Other>
    proto::Response operator()([[maybe_unused]] Other& m) const
    {
        if constexpr (is_oidc_request<Other>) {
            if (oidc == nullptr)
                return proto::failure({core::Errc::failed_precondition,
                                       "the OpenID Connect provider is off: set [oidc] listen in "
                                       "latchkey.toml"});
            proto::Request forwarded{std::move(m)};
            return oidc->handle(forwarded, actor);
        }
        using PamOnly = Other;
        return proto::failure({core::Errc::permission_denied,
                               "'" + std::string(PamOnly::type) +
                                   "' is not available on the admin socket; use the PAM socket"});
    }
};

class AdminConnection final : public Connection {
public:
    AdminConnection(Directory& dir, Mfa& mfa, AccessKeys& keys, OidcAdmin* oidc, Peer peer,
                    std::chrono::seconds answer_timeout)
        : dir_(dir)
        , mfa_(mfa)
        , keys_(keys)
        , oidc_(oidc)
        , peer_(std::move(peer))
        , answer_timeout_(answer_timeout)
    {
    }

    proto::Response handle(proto::Request&& request) override
    {
        log::debug("admin request from " + peer_.actor() + ": " + proto::to_log_string(request));
        return std::visit(Dispatch{dir_, mfa_, keys_, oidc_, enrolment_, Actor{peer_.actor()}}, request);
    }

    std::chrono::seconds idle_timeout(std::chrono::seconds normal) const override
    {
        // Between an enrolment's challenge and its codes, a person reads two codes off a phone.
        return enrolment_ ? std::max(normal, answer_timeout_) : normal;
    }

private:
    Directory& dir_;
    Mfa& mfa_;
    AccessKeys& keys_;
    OidcAdmin* oidc_;
    Peer peer_;
    std::chrono::seconds answer_timeout_;
    std::optional<PendingEnrolment> enrolment_;
};

} // namespace

ConnectionFactory admin_connections(Directory& directory, Mfa& mfa, AccessKeys& keys,
                                    OidcAdmin* oidc, AdminAccess access)
{
    return [&directory, &mfa, &keys, oidc, access](const Peer& peer)
               -> core::Result<std::unique_ptr<Connection>> {
        const bool admitted = peer.uid == 0 || peer.uid == access.daemon_uid ||
                              (access.admin_gid && peer.in_group(*access.admin_gid));
        if (!admitted)
            return core::fail(core::Errc::permission_denied,
                              "permission denied: the admin socket is for root and members of "
                              "the group " + access.admin_group);
        return std::unique_ptr<Connection>(
            new AdminConnection(directory, mfa, keys, oidc, peer, access.answer_timeout));
    };
}

} // namespace latchkey::daemon
