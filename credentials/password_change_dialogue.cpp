// SPDX-License-Identifier: Apache-2.0
// The password change dialogue: current password, new password twice, checked against the
// account's policy (seed 004).
#include "credentials/engine_context.hpp"

namespace latchkey::credentials {

using namespace engine;

namespace {

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
        return prompt(PromptKind::new_password, PromptStyle::echo_off,
                      "New password: ", std::move(messages));
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
        if (ctx_.locked_now(who_)) { // read afresh: it may have engaged since the dialogue began
            state_ = State::done;
            ctx_.hasher.burn(current);
            audit("passwd.fail", "locked");
            return verdict(Outcome::denied, "The account is locked after too many failed logons.");
        }
        const auto ok = ctx_.hasher.verify(who_.user.password_hash, current);
        if (!ok || !*ok) {
            state_ = State::done;
            ctx_.count_failure(who_, caller_, request_.service);
            audit("passwd.fail", "bad_password");
            return verdict(Outcome::denied, "Wrong password: password not changed.");
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

std::unique_ptr<Dialogue> password_change_dialogue(AuthEngine::Context& ctx,
                                                   proto::PasswordChangeBegin request,
                                                   Caller caller,
                                                   directory::ResolvedUser who)
{
    return std::make_unique<PasswordChangeDialogue>(ctx, std::move(request), std::move(caller),
                                                    std::move(who));
}

Started required_change_dialogue(AuthEngine::Context& ctx,
                                 proto::PasswordChangeBegin request,
                                 Caller caller,
                                 directory::ResolvedUser who,
                                 std::string reason)
{
    auto dialogue = std::make_unique<PasswordChangeDialogue>(ctx, std::move(request),
                                                             std::move(caller), std::move(who));
    Step first = dialogue->start_at_new(std::move(reason));
    return {std::move(first), std::move(dialogue)};
}

} // namespace latchkey::credentials
