// SPDX-License-Identifier: Apache-2.0
// The logon dialogue: the password (or a security key at the host), then a security key, a
// TOTP or recovery code, or the enrolment of a first MFA device when the account requires one.
#include "credentials/engine_context.hpp"
#include "credentials/qr.hpp"
#include "webauthn/response.hpp"

namespace latchkey::credentials {

using namespace engine;

namespace {

/// Whether PAM_RHOST names another machine. sudo sets it to this host's own name, short or
/// fully qualified (and some programs to "localhost"): a logon there is not remote, though it
/// has a remote host. An address is remote, loopback too (ssh to this machine).
bool is_remote_host(const std::string& rhost, const std::string& this_host)
{
    const auto short_name = [](const std::string& n) {
        return lowercase(n.substr(0, n.find('.')));
    };
    if (rhost.empty())
        return false;
    if (directory::is_address(rhost))
        return true;
    return lowercase(rhost) != "localhost" && short_name(rhost) != short_name(this_host);
}

/// What a logon dialogue saves (LogonDialogue::save): where it stands and whom it is about.
/// The user, the MFA device and the passkeys are read again when it resumes.
struct SavedLogon {
    LogonRequest request;
    Caller caller;
    std::optional<std::string> user_id; ///< nullopt: a name latchkey does not know
    std::string state;
    std::string method;
    bool has_passkeys = false;
    bool key_again = true;
    std::optional<core::Secret> enrolment; ///< save_enrolment(): the app's key being set up
};
BOOST_DESCRIBE_STRUCT(SavedLogon,
                      (),
                      (request, caller, user_id, state, method, has_passkeys, key_again, enrolment))

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

    /// The first prompt: the user's security key where the module can run one and the account
    /// allows passkey logon, else the password.
    Step start()
    {
        if (request_.security_key && who_) {
            auto keys = ctx_.store.passkeys(who_->user.id);
            if (!keys)
                return unavailable("reading security keys", keys.error());
            host_keys_ = keys_for(std::move(*keys), directory::PasskeyParty::host);
        }
        if (!host_keys_.empty() && who_->account.settings.allow_passkey_logon &&
            !who_->account.closed_at)
            return ask_key(State::key_first, {});
        if (approval_mode() == proto::DeviceApproval::instead_of_password)
            return ask_approval(false);
        return prompt(PromptKind::password, PromptStyle::echo_off, "Password: ");
    }

    ~LogonDialogue() override
    {
        if (!device_code_.empty())
            ctx_.approvals.withdraw(device_code_);
    }

    LogonDialogue(const LogonDialogue&) = delete;
    LogonDialogue& operator=(const LogonDialogue&) = delete;

    Step answer(core::Secret a) override
    {
        switch (state_) {
        case State::password: return on_password(std::move(a));
        case State::key_first:
        case State::key_second:
            state_ = State::done;
            deny_record("security_key_expected");
            return verdict(Outcome::denied, "Authentication failed: a security key was expected.");
        case State::code: return on_code(a);
        case State::approval: return on_approval_answer(std::move(a));
        case State::enrol_first: return on_enrol_first(a);
        case State::enrol_second: return on_enrol_second(a);
        case State::passkey:
            state_ = State::done;
            deny_record("passkey_expected");
            return verdict(Outcome::denied, "Authentication failed: a passkey was expected.");
        case State::done: break;
        }
        return verdict(Outcome::denied, "this logon has already ended");
    }

    bool answer_is_slow() const override { return state_ == State::password; }

    std::string method() const override { return method_; }

    bool accepts_passkey() const override
    {
        return (state_ == State::code || state_ == State::passkey) && has_passkeys_;
    }

    /// A passkey of the user in place of the TOTP code: the second factor.
    Step answer_passkey(const webauthn::PendingCeremony& pending,
                        const webauthn::AuthenticationResponse& response) override
    {
        if (!accepts_passkey())
            return verdict(Outcome::denied, "A passkey is not asked for here.");
        state_ = State::done;
        method_ = "pwd+passkey";
        if (const auto until = ctx_.throttled(request_)) {
            deny_record("source_throttled");
            return verdict(Outcome::denied, throttled_message(*until));
        }
        if (ctx_.locked_now(*who_))
            return locked();
        auto stored = ctx_.store.passkey_by_credential(response.id);
        if (!stored)
            return unavailable("reading a passkey", stored.error());
        std::string reason;
        if (!*stored || (*stored)->user_id != who_->user.id) {
            reason = *stored ? "credential_of_another_user" : "unknown_credential";
        } else if ((*stored)->relying_party != directory::PasskeyParty::web) {
            reason = "host_key_on_the_web";
        } else {
            const auto checked = check_passkey(ctx_, **stored, pending, response);
            if (checked.outcome == PasskeyCheck::Outcome::unavailable)
                return unavailable("checking a passkey", checked.error);
            if (checked.outcome == PasskeyCheck::Outcome::verified) {
                // The key's kind, without "+uv": the password is the other factor.
                method_ = "pwd+" + checked.key.substr(0, 3);
                return succeed();
            }
            reason = checked.reason;
        }
        ctx_.count_failure(*who_, caller_, request_.service);
        ctx_.count_source_failure(request_);
        deny_record(std::move(reason));
        return verdict(Outcome::denied, std::string(passkey_refused));
    }

    /// The states a front door may come back to in another request: not while a security key
    /// or an approval is awaited (those live in this process).
    std::optional<core::Secret> save() const override
    {
        const auto name = state_name(state_);
        if (name.empty() || !device_code_.empty() || key_pending_)
            return std::nullopt;
        SavedLogon out;
        out.request = request_;
        out.caller = caller_;
        if (who_)
            out.user_id = who_->user.id;
        out.state = name;
        out.method = method_;
        out.has_passkeys = has_passkeys_;
        out.key_again = key_again_;
        if (pending_)
            out.enrolment = save_enrolment(*pending_);
        return saved_dialogue("logon", proto::to_json(out));
    }

    /// The dialogue of `saved`, with its user, device and passkeys as they are now.
    static core::Result<std::unique_ptr<Dialogue>> resume(AuthEngine::Context& ctx,
                                                          SavedLogon saved)
    {
        const auto state = state_named(saved.state);
        if (!state)
            return core::fail(core::Errc::protocol_malformed, "not a saved logon");
        std::optional<directory::ResolvedUser> who;
        if (saved.user_id) {
            auto found = saved_user(ctx, *saved.user_id);
            if (found)
                who = std::move(*found);
            else if (!found.error().is(core::Errc::not_found) || *state != State::password)
                return core::fail(std::move(found).error());
            // Removed before the password was checked: now a name latchkey does not know.
        }
        if (*state != State::password && !who)
            return core::fail(core::Errc::protocol_malformed, "not a saved logon");
        auto d = std::make_unique<LogonDialogue>(ctx, std::move(saved.request),
                                                 std::move(saved.caller), std::move(who));
        d->state_ = *state;
        d->method_ = std::move(saved.method);
        d->has_passkeys_ = saved.has_passkeys;
        d->key_again_ = saved.key_again;
        if (*state == State::code)
            LATCHKEY_TRY_STATUS(d->read_device());
        if (*state == State::code && !d->device_)
            return core::fail(core::Errc::not_found, "the MFA device is gone");
        if (*state == State::enrol_first || *state == State::enrol_second) {
            if (!saved.enrolment)
                return core::fail(core::Errc::protocol_malformed, "not a saved logon");
            LATCHKEY_TRY(pending, resume_enrolment(*saved.enrolment, *d->who_));
            d->pending_ = std::move(pending);
        }
        return std::unique_ptr<Dialogue>(std::move(d));
    }

    /// The module's answer to a security_key prompt: the key's assertion, or its problem.
    Step answer_security_key(const proto::SecurityKeyResult& result) override
    {
        const State asked = state_;
        state_ = State::done;
        if ((asked != State::key_first && asked != State::key_second) || !key_pending_) {
            deny_record("security_key_unexpected");
            return verdict(Outcome::denied, "A security key is not asked for here.");
        }
        const webauthn::PendingCeremony pending = std::move(*key_pending_);
        key_pending_.reset();
        if (!result.problem.empty())
            return key_problem(asked, proto::problem_named(result.problem));
        method_ = asked == State::key_first ? "hwk" : "pwd+hwk";
        if (const auto until = ctx_.throttled(request_)) {
            deny_record("source_throttled");
            return verdict(Outcome::denied, throttled_message(*until));
        }
        if (ctx_.locked_now(*who_)) {
            if (asked == State::key_second)
                return locked();
            // Nothing is proven yet: the same answer as any refused key.
            deny_record("locked");
            return verdict(Outcome::denied, std::string(key_refused));
        }
        std::string reason = "unknown_credential";
        auto response = webauthn::parse_authentication_response(result.response);
        if (!response) {
            reason = "malformed_response";
        } else if (const auto* key = host_key(response->id)) {
            key_used_ = key->id;
            const auto checked = check_passkey(ctx_, *key, pending, *response);
            if (checked.outcome == PasskeyCheck::Outcome::unavailable)
                return unavailable("checking a security key", checked.error);
            if (checked.outcome == PasskeyCheck::Outcome::verified)
                return key_verified(asked, checked);
            reason = checked.reason;
        }
        ctx_.count_failure(*who_, caller_, request_.service);
        ctx_.count_source_failure(request_);
        deny_record(std::move(reason));
        return verdict(Outcome::denied, std::string(key_refused));
    }

private:
    enum class State : std::uint8_t {
        password,
        key_first, ///< a security key instead of the password
        code,
        key_second, ///< a security key after the password
        enrol_first,
        enrol_second,
        passkey,
        approval, ///< waiting for the code shown to be approved on the /device page
        done
    };

    /// The names of the states save() keeps; "" for the others.
    static std::string_view state_name(State s) noexcept
    {
        switch (s) {
        case State::password: return "password";
        case State::code: return "code";
        case State::passkey: return "passkey";
        case State::enrol_first: return "enrol_first";
        case State::enrol_second: return "enrol_second";
        case State::key_first:
        case State::key_second:
        case State::approval:
        case State::done: break;
        }
        return "";
    }

    static std::optional<State> state_named(std::string_view name) noexcept
    {
        for (const auto s : {State::password, State::code, State::passkey, State::enrol_first,
                             State::enrol_second})
            if (state_name(s) == name)
                return s;
        return std::nullopt;
    }

    static constexpr std::string_view key_refused =
        "Authentication failed: the security key was not accepted.";

    /// A security_key prompt for one of the user's host keys. The key must verify its user
    /// when policy says so, and as the only factor when the account requires MFA.
    Step ask_key(State which, std::vector<proto::Message> messages)
    {
        auto found = ctx_.store.directory();
        if (!found || !*found)
            return unavailable("reading the directory",
                               found ? core::Error(core::Errc::not_found, "no directory")
                                     : found.error());
        auto handle =
            ctx_.store.user_handle(who_->user.id, core::random_string(webauthn::user_handle_size));
        if (!handle)
            return unavailable("reading a user handle", handle.error());
        const auto& settings = ctx_.host_keys;
        const bool uv = settings.user_verification == webauthn::UserVerification::required ||
                        (which == State::key_first && Mfa::required(who_->account, who_->user));
        auto ceremony = host_assertion(host_relying_party(settings, (*found)->domain), settings,
                                       host_keys_, *handle, uv, ctx_.clock.now());
        key_pending_ = std::move(ceremony.pending);
        state_ = which;
        Step s = prompt(PromptKind::security_key, PromptStyle::info, "Touch your security key.",
                        std::move(messages));
        s.prompt->security_key = std::move(ceremony.ceremony);
        return s;
    }

    const directory::PasskeyRecord* host_key(const std::string& credential_id) const
    {
        for (const auto& k : host_keys_)
            if (k.credential_id == credential_id)
                return &k;
        return nullptr;
    }

    Step key_verified(State asked, const PasskeyCheck& checked)
    {
        if (asked == State::key_second) {
            // The key's kind, without "+uv": the password is the other factor.
            method_ = "pwd+" + checked.key.substr(0, 3);
            return succeed();
        }
        method_ = checked.key;
        if (auto refusal = refuse_after_proof())
            return std::move(*refusal);
        if (Mfa::required(who_->account, who_->user) && !checked.user_verified) {
            deny_record("mfa_required");
            return verdict(Outcome::denied,
                           "This account requires multi-factor authentication: use your "
                           "security key with its PIN, or log on with your password.");
        }
        return succeed();
    }

    /// The key gave no answer: say why, and go on with the next method the policy allows —
    /// the password after a key asked in its place; after the password, a code, or, with no
    /// authenticator app to fall back to, the password alone unless the account requires MFA.
    Step key_problem(State asked, proto::KeyProblem problem)
    {
        std::vector<proto::Message> m;
        m.push_back(line(PromptStyle::error, std::string(proto::problem_message(problem))));
        if (asked == State::key_first) {
            // A key that cannot verify its user (or whose PIN was not given) still serves
            // after the password, where no PIN is needed; a missing key is not asked again.
            key_again_ = problem == proto::KeyProblem::pin_required ||
                         problem == proto::KeyProblem::not_supported;
            m.push_back(line(PromptStyle::info, "Log on with your password instead."));
            state_ = State::password;
            return prompt(PromptKind::password, PromptStyle::echo_off, "Password: ", std::move(m));
        }
        if (device_) {
            method_ = "pwd+otp";
            state_ = State::code;
            m.push_back(line(PromptStyle::info, "Enter a verification code instead."));
            return prompt(PromptKind::verification_code, PromptStyle::echo_off,
                          "Verification code: ", std::move(m));
        }
        if (Mfa::required(who_->account, who_->user)) {
            deny_record("security_key_" + std::string(proto::problem_name(problem)));
            return verdict(Outcome::denied,
                           std::string(proto::problem_message(problem)) +
                               " Multi-factor authentication is required: log on with your "
                               "security key.");
        }
        method_ = "pwd";
        return succeed(std::move(m));
    }

    // ---- approval on the /device page (a remote logon through PAM) ----------------------

    /// How the account lets this logon be approved on the page: only a logon through PAM from
    /// a remote address, where the daemon knows the page. For a name latchkey does not know,
    /// the setting of the account it would be in, so that the first prompt does not tell
    /// whether the user exists.
    proto::DeviceApproval approval_mode() const
    {
        if (caller_.front_door != "pam" || !request_.rhost ||
            !is_remote_host(*request_.rhost, ctx_.device_page.host) || ctx_.device_page.uri.empty())
            return proto::DeviceApproval::off;
        if (who_)
            return who_->account.settings.device_approval;
        const auto located = ctx_.directory.locate({request_.user, std::nullopt});
        return located ? located->first.settings.device_approval : proto::DeviceApproval::off;
    }

    /// Issues a code for this logon and shows where to approve it. A name latchkey does not
    /// know gets a code like any other, issued for nobody: no one can approve it.
    Step ask_approval(bool after_password)
    {
        DeviceRequest r;
        r.kind = DeviceRequest::Kind::host_logon;
        r.source = *request_.rhost;
        r.user_id = who_ ? who_->user.id : "unknown:" + request_.user.substr(0, 64);
        r.user_name = who_ ? who_->user.name : request_.user.substr(0, 64);
        r.host = ctx_.device_page.host;
        r.service = request_.service;
        r.rhost = request_.rhost;
        auto issued = ctx_.approvals.issue(r, ctx_.clock.now());
        if (!issued) {
            state_ = State::done;
            if (!issued.error().is(core::Errc::daemon_busy))
                return unavailable("issuing an approval code", issued.error());
            deny_record("approval_rate_limited");
            return verdict(Outcome::denied, "Too many logons are waiting for an approval; try "
                                            "again in a few minutes.");
        }
        device_code_ = std::move(issued->device_code);
        method_ = after_password ? "pwd+device_approval" : "device_approval";
        const std::string code = issued->user_code;
        const std::string& page = ctx_.device_page.uri;
        std::vector<proto::Message> m;
        const auto info = [&](std::string text) {
            m.push_back(line(PromptStyle::info, std::move(text)));
            m.back().instructs = true;
        };
        info("To sign in to " + r.host + " as " + r.user_name + ", open");
        info("  " + page + "   and enter code  " + code);
        if (auto qr = qr_lines(page_with_code(page, code))) {
            info("or scan:");
            for (auto& l : *qr)
                info(std::move(l));
        }
        state_ = State::approval;
        return prompt(PromptKind::other, PromptStyle::echo_on, approval_question(), std::move(m));
    }

    std::string approval_question() const
    {
        return device_ ? "Press Enter when you have approved, or type a verification code: "
                       : "Press Enter when you have approved.";
    }

    /// Enter: asks whether the code was approved. After the password, a typed verification
    /// code is the user's other way in.
    Step on_approval_answer(core::Secret typed)
    {
        if (device_ && !typed.view().empty()) {
            withdraw_approval();
            method_ = "pwd+otp";
            return on_code(typed);
        }
        const auto poll = ctx_.approvals.poll(device_code_, ctx_.clock.now());
        using S = DevicePoll::State;
        switch (poll.state) {
        case S::pending:
        case S::slow_down: // a person pressing Enter twice is not a client to slow down
            return prompt(PromptKind::other, PromptStyle::echo_on, approval_question(),
                          {line(PromptStyle::info, "Not approved yet.")});
        case S::approved: device_code_.clear(); return approved(*poll.approver);
        case S::denied:
            device_code_.clear();
            state_ = State::done;
            ctx_.count_source_failure(request_);
            deny_record("approval_denied");
            return verdict(Outcome::denied, "Authentication failed: the logon was denied.");
        case S::expired:
        case S::unknown: break;
        }
        device_code_.clear();
        state_ = State::done;
        deny_record("approval_expired");
        return verdict(Outcome::denied,
                       "Authentication failed: the code expired before it was approved.");
    }

    Step approved(const DeviceApprover& approver)
    {
        state_ = State::done;
        approver_session_ = approver.session_id;
        approver_method_ = approver.method;
        // Only the user a code was issued for can approve it: a stranger's code is no one's.
        if (!who_ || approver.user_id != who_->user.id) {
            deny_record("approval_of_another_user");
            return verdict(Outcome::denied, std::string(bad_credentials));
        }
        // Minutes may have passed: the user and the account's rules as they are now.
        auto fresh = ctx_.directory.resolve_id(who_->user.id);
        if (!fresh && !fresh.error().is(core::Errc::not_found))
            return unavailable("reading the user", fresh.error());
        if (!fresh) {
            deny_record("user_removed");
            return verdict(Outcome::denied, std::string(bad_credentials));
        }
        who_ = std::move(*fresh);
        if (who_->account.closed_at || ctx_.locked_now(*who_)) {
            deny_record(who_->account.closed_at ? "account_closed" : "locked");
            return verdict(Outcome::denied, std::string(bad_credentials));
        }
        if (auto refusal = refuse_after_proof())
            return std::move(*refusal);
        return succeed();
    }

    void withdraw_approval()
    {
        if (!device_code_.empty())
            ctx_.approvals.withdraw(std::exchange(device_code_, std::string()));
    }

    Step on_password(core::Secret answer)
    {
        state_ = State::done;
        // A throttled source costs no hash and learns nothing about the name it tries.
        if (const auto until = ctx_.throttled(request_)) {
            deny_record("source_throttled");
            return verdict(Outcome::denied, throttled_message(*until));
        }
        // Unknown, no password, a closed account or a lock, read afresh now (a dialogue may have
        // been opened before the lock engaged): the same work and the same answer as a wrong
        // password, so none of them can be told apart, and no password is checked while locked.
        const char* refused = !who_                           ? "unknown_user"
                              : who_->user.password_hash.empty() ? "no_password"
                              : who_->account.closed_at          ? "account_closed"
                              : ctx_.locked_now(*who_)           ? "locked"
                                                                 : nullptr;
        // Under a single prompt, an answer shaped like a password with a code appended costs
        // two computations for every name: the split password and, that failing, the whole
        // answer. A refusal then costs the same for an unknown name, a user without an MFA
        // device and one with a device, so its time tells none of them apart.
        const int computations_due =
            request_.single_prompt && split_single_answer(answer, min_code_digits) ? 2 : 1;
        if (refused != nullptr) {
            for (int i = 0; i < computations_due; ++i)
                ctx_.hasher.burn(answer);
            ctx_.count_source_failure(request_);
            deny_record(refused);
            return verdict(Outcome::denied, std::string(bad_credentials));
        }
        // The device is read once the password is right, so that a wrong password costs what
        // an unknown name costs; only a single prompt needs it first, to split the answer.
        if (request_.single_prompt)
            if (auto st = read_device(); !st)
                return unavailable("reading the MFA device", st.error());
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
        int computations = 1;
        if (ok && !*ok && whole) {
            // No code appended after all: the whole answer may be the password, and the code
            // is then asked for separately.
            ok = ctx_.hasher.verify(who_->user.password_hash, *whole);
            ++computations;
            if (ok && *ok) {
                password = std::move(*whole);
                inline_code.reset();
            }
        }
        if (!ok)
            return unavailable("verifying a password", ok.error());
        if (!*ok) {
            for (; computations < computations_due; ++computations)
                ctx_.hasher.burn(password);
            ctx_.count_failure(*who_, caller_, request_.service);
            ctx_.count_source_failure(request_);
            deny_record("bad_password");
            return verdict(Outcome::denied, std::string(bad_credentials));
        }
        if (!request_.single_prompt)
            if (auto st = read_device(); !st)
                return unavailable("reading the MFA device", st.error());
        // The password is right: from here on, the reasons can be told.
        if (auto refusal = refuse_after_proof())
            return std::move(*refusal);
        if (ctx_.hasher.needs_rehash(who_->user.password_hash)) {
            if (auto fresh = ctx_.hasher.hash(password))
                (void)ctx_.store.rehash_password(who_->user.id, who_->user.password_hash, *fresh);
        }
        return second_factor(std::move(inline_code));
    }

    /// Once the user has proven who they are, the rules that may still refuse the logon.
    std::optional<Step> refuse_after_proof()
    {
        if (!who_->user.console_logon) {
            deny_record("logon_disabled");
            return verdict(Outcome::denied, "Console logon is disabled for this user.");
        }
        if (!network_allowed(who_->account, request_.rhost)) {
            deny_record("network_not_allowed");
            return verdict(Outcome::denied,
                           "Logon from this network is not allowed for this account.");
        }
        return std::nullopt;
    }

    /// After the password: a code when the user has a device, enrolment or a refusal when
    /// policy demands one, else done. Failures are forgotten only once every factor passed.
    Step second_factor(std::optional<core::Secret> inline_code)
    {
        // At the OIDC pages a passkey can be the second factor, in place of a code.
        if (caller_.front_door == "oidc") {
            auto keys = ctx_.store.passkeys(who_->user.id);
            if (!keys)
                return unavailable("reading passkeys", keys.error());
            has_passkeys_ = !keys_for(std::move(*keys), directory::PasskeyParty::web).empty();
        }
        if (device_ && inline_code) {
            method_ = "pwd+otp";
            return on_code(*inline_code);
        }
        if (approval_mode() == proto::DeviceApproval::after_password)
            return ask_approval(true);
        // A security key the user has for the hosts is their second factor where it can be
        // asked; the code is the fallback when it cannot answer.
        if (!host_keys_.empty() && key_again_)
            return ask_key(State::key_second, {});
        if (!host_keys_.empty() && !device_ && Mfa::required(who_->account, who_->user)) {
            // The key could not answer in place of the password, and nothing else can follow.
            deny_record("security_key_unavailable");
            return verdict(Outcome::denied, "Multi-factor authentication is required: log on "
                                            "with your security key.");
        }
        if (device_) {
            method_ = "pwd+otp";
            state_ = State::code;
            return prompt(PromptKind::verification_code, PromptStyle::echo_off,
                          "Verification code: ");
        }
        if (!Mfa::required(who_->account, who_->user))
            return succeed();
        if (has_passkeys_) {
            state_ = State::passkey;
            return prompt(PromptKind::passkey, PromptStyle::echo_off, "Passkey: ",
                          {line(PromptStyle::info, "Multi-factor authentication is required: "
                                                   "confirm with one of your passkeys.")});
        }
        method_ = "pwd+otp";
        const std::string name = who_->user.name + "@" + who_->account.default_domain;
        // Root enrols before its first logon completes, whatever the account's setting.
        if (!who_->account.settings.mfa_enrol_at_logon &&
            !directory::Authority::is_root(who_->account, who_->user)) {
            deny_record("mfa_not_enrolled");
            return verdict(Outcome::denied,
                           "Multi-factor authentication is required, and no MFA device is "
                           "enrolled for " +
                               name +
                               ". Ask an administrator to enrol one: "
                               "latchkeyctl mfa enroll " +
                               name);
        }
        return begin_enrolment(name);
    }

    Step on_code(const core::Secret& code)
    {
        state_ = State::done;
        if (const auto until = ctx_.throttled(request_)) {
            deny_record("source_throttled");
            return verdict(Outcome::denied, throttled_message(*until));
        }
        // The lock is read again at every verdict: it may have engaged since the password.
        if (ctx_.locked_now(*who_))
            return locked();
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
        ctx_.count_failure(*who_, caller_, request_.service);
        ctx_.count_source_failure(request_);
        deny_record("bad_code");
        return verdict(Outcome::denied, "Authentication failed: wrong verification code.");
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
        const auto info = [&](std::string text) {
            m.push_back(line(PromptStyle::info, std::move(text)));
        };
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

    core::Status read_device()
    {
        auto found = ctx_.mfa.device(who_->user);
        if (!found)
            return core::fail(std::move(found).error());
        device_ = std::move(*found);
        return {};
    }

    /// Refused after the password was proven: the caller may know why.
    Step locked()
    {
        state_ = State::done;
        deny_record("locked");
        return verdict(Outcome::denied, "The account is locked after too many failed logons; an "
                                        "administrator can unlock it.");
    }

    Step succeed(std::vector<proto::Message> messages = {})
    {
        state_ = State::done;
        if (!ctx_.settle_success(*who_)) // a lock that engaged meanwhile wins
            return locked();
        const std::string id =
            ctx_.remember_logon(*who_, request_.service, request_.rhost, method_);
        std::map<std::string, std::string> extra{
            {"method", method_}, {"account", who_->account.name}, {"logon_id", id}};
        if (!key_used_.empty())
            extra["passkey"] = key_used_;
        if (!approver_session_.empty()) {
            extra["approved_by_session"] = approver_session_;
            extra["approver_method"] = approver_method_;
        }
        ctx_.record(directory::Severity::info, "auth.allow", caller_, request_.service,
                    who_->user.name, request_.rhost, "", std::move(extra));
        Step s = verdict(Outcome::success, "", id);
        s.messages = std::move(messages);
        return s;
    }

    void deny_record(std::string reason)
    {
        std::map<std::string, std::string> extra{{"method", method_}};
        if (who_)
            extra["account"] = who_->account.name;
        if (!key_used_.empty())
            extra["passkey"] = key_used_;
        ctx_.record(directory::Severity::warning, "auth.deny", caller_, request_.service,
                    who_ ? who_->user.name : request_.user, request_.rhost, std::move(reason),
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
    bool has_passkeys_ = false; ///< and the front door can take one (the OIDC pages)
    /// The user's security keys for the hosts, where the front door can run one (PAM).
    std::vector<directory::PasskeyRecord> host_keys_;
    std::optional<webauthn::PendingCeremony> key_pending_;
    bool key_again_ = true; ///< a key that failed as the first factor may be the second
    std::string key_used_;  ///< the id of the host key that answered, for the audit
    std::string device_code_; ///< the approval this logon waits for
    std::string approver_session_;
    std::string approver_method_;
};

} // namespace

core::Result<std::unique_ptr<Dialogue>> resume_logon_dialogue(AuthEngine::Context& ctx,
                                                              const boost::json::value& state)
{
    SavedLogon saved;
    LATCHKEY_TRY_STATUS(proto::from_json(state, saved, "logon"));
    return LogonDialogue::resume(ctx, std::move(saved));
}

Started logon_dialogue(AuthEngine::Context& ctx,
                       LogonRequest request,
                       Caller caller,
                       std::optional<directory::ResolvedUser> who)
{
    auto dialogue =
        std::make_unique<LogonDialogue>(ctx, std::move(request), std::move(caller), std::move(who));
    Step first = dialogue->start();
    if (!first.prompt)
        return {std::move(first), nullptr};
    return {std::move(first), std::move(dialogue)};
}

} // namespace latchkey::credentials
