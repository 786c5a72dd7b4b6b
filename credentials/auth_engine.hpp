// SPDX-License-Identifier: Apache-2.0
// AuthEngine: the rules of logging on, behind every front door (PAM socket now, OIDC pages).
//
// A logon is a dialogue the engine drives. Each step says what to show and either asks for
// something (a Prompt) or ends with a Verdict:
//
//   begin ──► refuse at once: caller may not ask · root · locked · no host account
//     │       ignore at once: unknown user and the client asked to be told
//     ▼
//   "Password: " ──► verify (a dummy hash for unknown users: same answer, same time)
//     │  wrong ──► count the failure (lock for an hour at the policy's limit) ──► deny
//     ▼
//   console logon disabled? logon network allowed? ──► deny
//     ▼
//   MFA device? ──► "Verification code: " (TOTP of a fresh step, or a recovery code)
//     │              wrong ──► count the failure ──► deny;  replayed ──► deny
//   MFA required, no device? ──► deny with how to enrol, or (mfa_enrol_at_logon) enrol now:
//     │              URI + QR as info, "Verification code: ", "Next verification code: "
//     ▼
//   success: a logon id that the session hooks use to find this logon
//
// A user with a security key for the hosts (host_keys.hpp), where the PAM module can run one:
// the key first instead of the password when the account allows passkey logon ("Touch your
// security key", with its PIN when MFA is required), or the key after the password in place of
// the code. A key that cannot answer (none plugged in, no touch, wrong PIN) falls back to the
// password, or to the code; an answer that fails a check counts like a wrong password.
//
// Single-prompt mode takes "password" + "code" in one answer when the user has a device.
//
// A passkey logon (the OIDC pages) is one step: options, then the browser's assertion, checked
// by webauthn/ and held to the same rules (throttle, lock, root, console logon, networks, MFA).
//
// A password change (chauthtok) is a dialogue too: current password, new, repeat, with the
// policy's own messages and up to three tries. Expiry and required-at-next-logon are decided
// by check_account() (acct_mgmt), not by the logon itself.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include <sys/types.h>

#include "core/clock.hpp"
#include "core/secret.hpp"
#include "credentials/device_approvals.hpp"
#include "credentials/host_keys.hpp"
#include "credentials/mfa.hpp"
#include "credentials/passkeys.hpp"
#include "credentials/password_hasher.hpp"
#include "credentials/passwords.hpp"
#include "directory/audit.hpp"
#include "directory/directory.hpp"
#include "directory/store.hpp"
#include "proto/messages.hpp"
#include "webauthn/ceremony.hpp"
#include "webauthn/response.hpp"

namespace latchkey::credentials {

/// The next step of a dialogue (messages, then a prompt or a verdict).
using Step = proto::AuthReply;

/// Who is asking, for the rule that an unprivileged caller may only ask about itself.
struct Caller {
    std::optional<uid_t> uid; ///< nullopt: a trusted front door (the OIDC pages)
    pid_t pid = 0;
    std::string front_door = "pam";
};

struct LogonRequest {
    std::string service;
    std::string user; ///< as typed: "alice", or "alice@web.example.internal"
    std::optional<std::string> rhost;
    std::optional<std::string> tty;
    bool ignore_unknown_user = false;
    bool single_prompt = false;
    /// false (PAM): users of the host's account, by bare name or user@domain. true (the OIDC
    /// pages): a user of any account of the directory, named user@domain.
    bool directory_wide = false;
    /// The front door can run a security key ceremony where the person is (PAM's helper).
    bool security_key = false;
};

class Dialogue {
public:
    virtual ~Dialogue() = default;
    /// Takes the answer to the current prompt and returns the next step.
    virtual Step answer(core::Secret answer) = 0;

    /// Whether checking the next answer costs a password hash (so it waits for a hashing
    /// worker); a verification code does not.
    virtual bool answer_is_slow() const { return true; }

    /// How the user was proven once the dialogue succeeded: "pwd", "pwd+otp", "pwd+recovery",
    /// "pwd+hwk" (a passkey as the second factor), ...
    virtual std::string method() const { return "pwd"; }

    /// Whether the current prompt may be answered with a passkey instead (the second factor,
    /// at the OIDC pages).
    virtual bool accepts_passkey() const { return false; }

    /// A passkey in place of the answer, when accepts_passkey(): the browser's assertion for
    /// `pending` (options from AuthEngine::begin_passkey_logon for the dialogue's user).
    virtual Step answer_passkey(const webauthn::PendingCeremony& pending,
                                const webauthn::AuthenticationResponse& response);

    /// The answer to a security_key prompt: the key's response, or the problem that kept it
    /// from answering. Refused unless the current prompt is a security_key prompt.
    virtual Step answer_security_key(const proto::SecurityKeyResult& result);

    /// The dialogue as it stands, for AuthEngine::resume() in this process or another one on
    /// the same directory (the OIDC pages keep a sign-in in the store between two requests,
    /// for any node to go on with). It may hold a secret being set up (an authenticator app's
    /// key, a new password typed once): seal it before it leaves the process. nullopt: this
    /// dialogue cannot be resumed elsewhere (it waits for a security key or an approval).
    virtual std::optional<core::Secret> save() const { return std::nullopt; }
};

/// A step and, when it asks something, the dialogue that takes the answer.
struct Started {
    Step step;
    std::unique_ptr<Dialogue> dialogue;
};

/// A security key enrolment for the hosts in progress: whose, and its ceremony.
struct HostKeyEnrolment {
    directory::ResolvedUser who;
    HostCeremony ceremony;
};

/// How a passkey logon ended: the verdict and, on success, who signed in and how (the session's
/// method: "hwk" for a device-bound key, "swk" for a synced passkey, "+uv" when the
/// authenticator verified the user).
struct PasskeyVerdict {
    proto::Verdict verdict;
    std::string method;
    std::optional<directory::ResolvedUser> who;
};

class AuthEngine {
public:
    AuthEngine(directory::Store& store,
               directory::Directory& directory,
               PasswordHasher& hasher,
               Mfa& mfa,
               directory::Audit& audit,
               const core::Clock& clock);
    ~AuthEngine();

    /// Failed logons one source address may make per hour, against one user name and against
    /// any names, before it is throttled (docs/security.md). 0 turns a limit off.
    void set_source_limits(std::uint32_t per_name, std::uint32_t per_source);

    /// Security keys at the hosts ([webauthn] host_*; host_keys.hpp).
    void set_host_keys(HostKeySettings settings);

    /// Codes approved on another device: the PAM logons that wait for one, and the provider's
    /// device grant and /device page (device_approvals.hpp).
    DeviceApprovals& device_approvals();

    /// Where a person approves a remote logon (the provider's /device page) and the name of this
    /// machine the page shows. Without a page (no provider), no logon waits for an approval.
    struct DevicePage {
        std::string uri;  ///< "https://login.example.org/device"
        std::string host; ///< "host1"
    };

    void set_device_page(DevicePage page);

    Started begin_logon(const LogonRequest& request, const Caller& caller);

    /// A dialogue from what its save() gave, here or in another process on the same
    /// directory. The user is read again; not_found when the user is gone, protocol_malformed
    /// when `saved` is not a saved dialogue.
    core::Result<std::unique_ptr<Dialogue>> resume(const core::Secret& saved);
    Started begin_password_change(const proto::PasswordChangeBegin& request, const Caller& caller);

    /// The same change for a user a front door has found (the account page): any account of
    /// the directory, with the same rules (allow_change_password, lock, expiry, policy).
    Started begin_own_password_change(const directory::ResolvedUser& who,
                                      const Caller& caller,
                                      const std::string& service);
    proto::Verdict check_account(const proto::AccountCheck& request, const Caller& caller);

    /// The password change that check_user() asked for (new_authtok_required), for a user
    /// who has just proven the current password at a front door's logon (the OIDC pages): it
    /// starts at "New password: " with `reason` and the policy above it.
    Started begin_required_change(const directory::ResolvedUser& who,
                                  const Caller& caller,
                                  const std::string& service,
                                  const std::string& reason);

    /// What check_account() decides, for a user already found (the OIDC pages, after a logon):
    /// logon disabled, locked, password expired or to be changed now.
    proto::Verdict check_user(const directory::ResolvedUser& who);

    /// Self-service MFA enrolment (PAM socket): the caller's own user, after its password (a
    /// wrong one counts toward lockout), when the account lets users manage their MFA devices.
    core::Result<PendingEnrolment> begin_self_enrolment(const Caller& caller,
                                                        const core::Secret& password);

    /// Whether the sign-in pages offer a passkey to the name typed: the account its domain names
    /// allows passkey logon. The user is not looked up: the offer must not tell who exists.
    bool offers_passkey(const std::string& typed);

    /// Options for a passkey logon. For a typed name: that user's passkeys, or, for a user
    /// latchkey does not know or one without passkeys, a made-up credential no authenticator
    /// holds (the options look alike either way). For an empty name: a discoverable sign-in.
    core::Result<webauthn::Options> begin_passkey_logon(const std::string& user,
                                                        const PasskeySettings& settings);

    /// Signs in with the browser's assertion for `pending` (request.user: the name typed, or
    /// empty for a discoverable sign-in). A failed check counts toward the lockout like a wrong
    /// password and is audited (auth.deny method=passkey reason=<the library's reason>); the
    /// person gets one message that does not say which check failed.
    PasskeyVerdict passkey_logon(const LogonRequest& request,
                                 const webauthn::PendingCeremony& pending,
                                 const webauthn::AuthenticationResponse& response,
                                 const Caller& caller);

    /// The same for a user a front door has found (the account page), and its steps: the
    /// challenge to show, then two consecutive codes, which store the device.
    core::Result<PendingEnrolment> begin_own_enrolment(const directory::ResolvedUser& who,
                                                       const core::Secret& password,
                                                       const Caller& caller);
    core::Result<proto::MfaChallenge> enrolment_challenge(const PendingEnrolment& pending);
    core::Result<proto::MfaEnrolled> finish_own_enrolment(PendingEnrolment& pending,
                                                          const core::Secret& first,
                                                          const core::Secret& second);

    /// Removes the user's own TOTP device, with the same checks; refused (failed_precondition)
    /// when the account requires MFA and the user has no passkey to take its place.
    core::Status remove_own_mfa(const directory::ResolvedUser& who,
                                const core::Secret& password,
                                const Caller& caller,
                                bool has_passkeys);

    /// Enrols a security key for the hosts: for `who`, whom an administrator named
    /// (begin_host_key), or for the caller after its password when the account lets users
    /// manage their MFA devices (begin_own_host_key; a wrong password counts toward the lock).
    /// Errors: policy_violation when the user has the most passkeys allowed.
    core::Result<HostKeyEnrolment> begin_host_key(const directory::ResolvedUser& who);
    core::Result<HostKeyEnrolment> begin_own_host_key(const Caller& caller,
                                                      const core::Secret& password);

    /// Verifies what the key answered for `enrolment`, stores the key for the hosts under
    /// `name` and audits passkey.register. Errors: the key's problem (security_key category)
    /// when it gave no answer; else as Passkeys::finish_registration.
    core::Result<proto::PasskeyInfo> finish_host_key(const HostKeyEnrolment& enrolment,
                                                     const proto::SecurityKeyResult& result,
                                                     std::string_view name);

    core::Result<std::string> open_session(const proto::SessionOpen& request, const Caller& caller);
    core::Status close_session(const proto::SessionClose& request, const Caller& caller);

    // For the dialogues; not part of the front doors' API.
    struct Context;

private:
    std::unique_ptr<Context> ctx_;
};

/// The reply to a KeyEnrolFinish on a connection whose enrolment in progress is `enrolment`
/// (the admin and PAM sockets alike): a PasskeyReply, or the failure. The enrolment ends,
/// whatever the outcome: a key that gave no answer is enrolled with a new ceremony.
proto::Response answer_key_finish(AuthEngine& engine,
                                  std::optional<HostKeyEnrolment>& enrolment,
                                  const proto::KeyEnrolFinish& m);

} // namespace latchkey::credentials
