// SPDX-License-Identifier: Apache-2.0
// The password change dialogue: current password, new password twice, checked against the
// account's policy (seed 004).
#include <array>

#include "credentials/engine_context.hpp"

namespace latchkey::credentials {

using namespace engine;

namespace {

/// What a password change saves: where it stands, and the new password once typed (sealed by
/// whoever keeps it outside the process).
struct SavedChange {
    proto::PasswordChangeBegin request;
    Caller caller;
    std::string user_id;
    std::string state; ///< "current", "fresh", "repeat"
    int tries = 0;
    std::optional<std::string> fresh; ///< base64
};
BOOST_DESCRIBE_STRUCT(SavedChange, (), (request, caller, user_id, state, tries, fresh))

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

    std::optional<core::Secret> save() const override
    {
        static constexpr std::array<std::string_view, 3> names{"current", "fresh", "repeat"};
        if (state_ == State::done)
            return std::nullopt;
        SavedChange out{request_,     caller_,
                        who_.user.id, std::string(names.at(static_cast<std::size_t>(state_))),
                        tries_,       std::nullopt};
        if (state_ == State::repeat)
            out.fresh = core::base64_encode(fresh_.view(), false, true);
        auto saved = saved_dialogue("password_change", proto::to_json(out));
        if (out.fresh)
            core::wipe(out.fresh->data(), out.fresh->size());
        return saved;
    }

    static core::Result<std::unique_ptr<Dialogue>> resume(AuthEngine::Context& ctx,
                                                          SavedChange saved)
    {
        LATCHKEY_TRY(who, saved_user(ctx, saved.user_id));
        auto d = std::make_unique<PasswordChangeDialogue>(ctx, std::move(saved.request),
                                                          std::move(saved.caller), std::move(who));
        d->tries_ = saved.tries;
        if (saved.state == "current") {
            d->state_ = State::current;
        } else if (saved.state == "fresh") {
            d->state_ = State::fresh;
        } else if (saved.state == "repeat" && saved.fresh) {
            auto fresh = core::base64_decode(*saved.fresh);
            core::wipe(saved.fresh->data(), saved.fresh->size());
            if (!fresh)
                return core::fail(core::Errc::protocol_malformed, "not a saved password change");
            d->fresh_ = core::Secret(*fresh);
            core::wipe(fresh->data(), fresh->size());
            d->state_ = State::repeat;
        } else {
            return core::fail(core::Errc::protocol_malformed, "not a saved password change");
        }
        return std::unique_ptr<Dialogue>(std::move(d));
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

core::Result<std::unique_ptr<Dialogue>> resume_password_change(AuthEngine::Context& ctx,
                                                               const boost::json::value& state)
{
    SavedChange saved;
    LATCHKEY_TRY_STATUS(proto::from_json(state, saved, "password_change"));
    return PasswordChangeDialogue::resume(ctx, std::move(saved));
}

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
