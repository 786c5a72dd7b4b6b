// SPDX-License-Identifier: Apache-2.0
// PAM socket request dispatch: a thin translation between frames and the AuthEngine.
#include "daemon/pam_service.hpp"

#include <algorithm>
#include <cctype>

#include "daemon/hello.hpp"
#include "proto/wire.hpp"

namespace latchkey::daemon {

namespace {

class PamConnection final : public Connection {
public:
    PamConnection(credentials::AuthEngine& engine,
                  credentials::Mfa& mfa,
                  const Peer& peer,
                  std::chrono::seconds answer_timeout)
        : engine_(engine)
        , mfa_(mfa)
        , caller_{peer.uid, peer.pid, "pam"}
        , answer_timeout_(answer_timeout)
    {
    }

    bool is_slow(const proto::Request& request) const override
    {
        // Only these are checked against a password hash; a code answer is not.
        if (std::holds_alternative<proto::AuthAnswer>(request))
            return !dialogue_ || dialogue_->answer_is_slow();
        return std::holds_alternative<proto::MfaEnroll>(request) ||
               std::holds_alternative<proto::KeyEnrol>(request);
    }

    /// A local user's requests are one key, whatever name it sends; root's (sshd, login, sudo)
    /// are keyed by the user they are for, so a spray against one user, from whichever front
    /// door, waits behind itself and not in front of everyone else's logons.
    std::string fairness_key(const proto::Request& request) const override
    {
        const uid_t uid = caller_.uid.value_or(0);
        if (uid != 0)
            return "uid:" + std::to_string(uid);
        std::string user = user_;
        if (const auto* b = std::get_if<proto::AuthBegin>(&request))
            user = b->user;
        else if (const auto* c = std::get_if<proto::PasswordChangeBegin>(&request))
            user = c->user;
        user = user.substr(0, user.find('@')).substr(0, 64);
        std::transform(user.begin(), user.end(), user.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        return "root:" + user;
    }

    std::chrono::seconds idle_timeout(std::chrono::seconds normal) const override
    {
        return dialogue_ || enrolment_ || key_enrolment_ ? std::max(normal, answer_timeout_)
                                                         : normal;
    }

    proto::Response handle(proto::Request&& request) override
    {
        return std::visit([this](auto& m) { return on(m); }, request);
    }

private:
    proto::Response start(credentials::Started started, const std::string& user)
    {
        user_ = user;
        dialogue_ = started.step.prompt ? std::move(started.dialogue) : nullptr;
        return std::move(started.step);
    }

    proto::Response on(proto::Hello& m) { return answer_hello(m); }

    proto::Response on(proto::AuthBegin& m)
    {
        credentials::LogonRequest r{m.service,      m.user, m.rhost, m.tty, m.ignore_unknown_user,
                                    m.single_prompt};
        r.security_key = m.security_key.value_or(false);
        return start(engine_.begin_logon(r, caller_), m.user);
    }

    proto::Response on(proto::PasswordChangeBegin& m)
    {
        return start(engine_.begin_password_change(m, caller_), m.user);
    }

    proto::Response on(proto::AuthAnswer& m)
    {
        if (!dialogue_)
            return proto::failure({core::Errc::failed_precondition,
                                   "no logon dialogue is in progress on this connection"});
        credentials::Step step = m.security_key ? dialogue_->answer_security_key(*m.security_key)
                                                : dialogue_->answer(std::move(m.answer));
        if (!step.prompt)
            dialogue_.reset();
        return step;
    }

    proto::Response on(proto::AccountCheck& m)
    {
        proto::AuthReply reply;
        reply.verdict = engine_.check_account(m, caller_);
        return reply;
    }

    proto::Response on(proto::SessionOpen& m)
    {
        auto id = engine_.open_session(m, caller_);
        if (!id)
            return proto::failure(id.error());
        return proto::SessionReply{*id};
    }

    proto::Response on(proto::SessionClose& m)
    {
        const auto st = engine_.close_session(m, caller_);
        if (!st)
            return proto::failure(st.error());
        return proto::Done{"session closed"};
    }

    /// Self-service: the caller enrols a device for itself.
    proto::Response on(proto::MfaEnroll& m)
    {
        enrolment_.reset();
        if (m.ref)
            return proto::failure({core::Errc::permission_denied,
                                   "on the PAM socket you can only enrol for yourself; an "
                                   "administrator names users on the admin socket"});
        if (!m.password)
            return proto::failure({core::Errc::invalid_argument,
                                   "self-service enrolment needs your password"});
        auto pending = engine_.begin_self_enrolment(caller_, *m.password);
        if (!pending)
            return proto::failure(pending.error());
        auto challenge = mfa_.challenge(*pending);
        if (!challenge)
            return proto::failure(challenge.error());
        enrolment_ = std::move(*pending);
        return std::move(*challenge);
    }

    proto::Response on(proto::MfaConfirm& m)
    {
        return answer_confirm(mfa_, enrolment_, m,
                              "self uid:" + std::to_string(caller_.uid.value_or(0)));
    }

    /// Self-service: the caller enrols a security key for itself, after its password.
    proto::Response on(proto::KeyEnrol& m)
    {
        key_enrolment_.reset();
        if (m.ref)
            return proto::failure({core::Errc::permission_denied,
                                   "on the PAM socket you can only enrol a key for yourself; an "
                                   "administrator names users on the admin socket"});
        if (!m.password)
            return proto::failure({core::Errc::invalid_argument,
                                   "enrolling your own security key needs your password"});
        auto started = engine_.begin_own_host_key(caller_, *m.password);
        if (!started)
            return proto::failure(started.error());
        proto::KeyEnrolCeremony reply{started->ceremony.ceremony.user_name,
                                      started->ceremony.ceremony};
        key_enrolment_ = std::move(*started);
        return reply;
    }

    proto::Response on(proto::KeyEnrolFinish& m)
    {
        return answer_key_finish(engine_, key_enrolment_, m);
    }

    template <class Other>
    proto::Response on(Other&)
    {
        return proto::failure({core::Errc::permission_denied,
                               "'" + std::string(Other::type) +
                                   "' is not available on the PAM socket; use the admin socket"});
    }

    credentials::AuthEngine& engine_;
    credentials::Mfa& mfa_;
    credentials::Caller caller_;
    std::chrono::seconds answer_timeout_;
    std::unique_ptr<credentials::Dialogue> dialogue_;
    std::string user_; ///< whom the dialogue is for, as the caller named it
    std::optional<credentials::PendingEnrolment> enrolment_;
    std::optional<credentials::HostKeyEnrolment> key_enrolment_;
};

} // namespace

ConnectionFactory pam_connections(credentials::AuthEngine& engine,
                                  credentials::Mfa& mfa,
                                  std::chrono::seconds answer_timeout)
{
    return [&engine, &mfa, answer_timeout](const Peer& peer)
               -> core::Result<std::unique_ptr<Connection>> {
        return std::unique_ptr<Connection>(new PamConnection(engine, mfa, peer, answer_timeout));
    };
}

} // namespace latchkey::daemon
