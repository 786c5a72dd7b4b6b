// SPDX-License-Identifier: Apache-2.0
// Mfa: the rules of second factors (seeds 001, 003) — TOTP devices and recovery codes.
//
// Every front door uses this one class: the administrator's `latchkeyctl mfa ...` (admin
// socket), a user's self-service enrolment (PAM socket) and the logon dialogue (AuthEngine),
// which asks for a code after the password and may walk a user through enrolment.
//
//   enrolment:  start() ─► challenge() (URI, key, QR: shown once)
//                  ─► accept_first(code at step s) ─► accept_second(code at step s + 1)
//                  ─► device stored (secret sealed), 10 recovery codes shown once
//   logon:      check(answer) ─► a TOTP code of a fresh step, or an unused recovery code
//
// A time step once accepted is never accepted again for that user (the store records the
// highest step atomically), so a code cannot be replayed, also across restarts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "core/secret.hpp"
#include "directory/audit.hpp"
#include "directory/directory.hpp"
#include "credentials/secret_box.hpp"
#include "directory/store.hpp"
#include "credentials/totp.hpp"
#include "proto/messages.hpp"

namespace latchkey::credentials {

/// How many recovery codes an enrolment (or `mfa recovery-codes`) makes.
inline constexpr std::size_t recovery_code_count = 10;

/// An enrolment between its challenge and its codes. The new secret lives only here until the
/// second code activates the device; dropping this abandons the enrolment.
struct PendingEnrolment {
    directory::ResolvedUser who;
    core::Secret secret;
    core::TimePoint started;
    std::optional<std::int64_t> first_step; ///< set once the first code is accepted
    unsigned wrong_codes = 0;
};

/// An enrolment as text, to keep between two requests (a sign-in's, the account page's) in this
/// process or another one on the same directory. The key being set up is in it: seal it.
core::Secret save_enrolment(const PendingEnrolment& p);

/// The enrolment of `who` that save_enrolment() gave: protocol_malformed when `saved` is not
/// one, or is another user's.
core::Result<PendingEnrolment> resume_enrolment(const core::Secret& saved,
                                                directory::ResolvedUser who);

/// What an answer to "Verification code: " turned out to be.
enum class CodeCheck : std::uint8_t {
    totp,     ///< a code of a time step not used before
    recovery, ///< an unused recovery code, now used up
    wrong,    ///< neither
    replayed, ///< a TOTP code of a step already used
};

class Mfa {
public:
    Mfa(directory::Store& store,
        const SecretBox& box,
        directory::Audit& audit,
        const core::Clock& clock,
        TotpParams params);

    /// Whether policy demands a second factor of this user even without a device: the
    /// account's `mfa_required`, and always for the root user of a cloud account (seed 003).
    static bool required(const directory::AccountRecord& account,
                         const directory::UserRecord& user);

    core::Result<std::optional<directory::MfaDeviceRecord>>
    device(const directory::UserRecord& user);

    /// Begins an enrolment with a fresh 160-bit secret. failed_precondition when the user
    /// already has a device (remove it first).
    core::Result<PendingEnrolment> start(const directory::ResolvedUser& who);

    /// The secret of `pending` as the person needs it: otpauth URI (issuer = the directory's
    /// domain, label = the logon name), base32 key and QR code.
    core::Result<proto::MfaChallenge> challenge(const PendingEnrolment& pending);

    /// The first code of an enrolment; invalid_argument when it is not a current code,
    /// failed_precondition when the enrolment has expired or had too many wrong codes.
    core::Status accept_first(PendingEnrolment& pending, const core::Secret& code,
                              const std::string& by);

    /// The second code, which must belong to the step right after the first; stores the device
    /// and returns it with its recovery codes. `by` names who enrolled it, for the audit trail.
    core::Result<proto::MfaEnrolled> accept_second(PendingEnrolment& pending,
                                                   const core::Secret& code,
                                                   const std::string& by);

    /// Both codes at once (latchkeyctl sends them together).
    core::Result<proto::MfaEnrolled> confirm(PendingEnrolment& pending, const core::Secret& first,
                                             const core::Secret& second, const std::string& by);

    /// Checks an answer at logon against the user's device and recovery codes, using up what
    /// matches. Recovery-code use is audited here; a wrong code is the caller's to count.
    core::Result<CodeCheck> check(const directory::ResolvedUser& who,
                                  const directory::MfaDeviceRecord& device,
                                  const core::Secret& answer);

    core::Status remove(const directory::ResolvedUser& who, const std::string& by);

    /// A new set of recovery codes; the old set stops working.
    core::Result<std::vector<core::Secret>> new_recovery_codes(const directory::ResolvedUser& who,
                                                               const std::string& by);

    /// The devices of one user, or of everyone.
    core::Result<std::vector<proto::MfaDeviceInfo>>
    list(const std::optional<directory::ResolvedUser>& who);

    [[nodiscard]] const TotpParams& params() const noexcept { return params_; }

private:
    core::Result<std::vector<core::Secret>> make_recovery_codes(const std::string& user_id,
                                                                std::vector<std::string>& hashes);
    core::Result<std::string> recovery_hash(const std::string& user_id,
                                            const core::Secret& normalized) const;
    core::Result<proto::MfaDeviceInfo> info(const directory::MfaDeviceRecord& device,
                                            const std::string& logon_name);
    void record(directory::Severity severity,
                const std::string& event,
                const directory::ResolvedUser& who,
                const std::string& by,
                std::map<std::string, std::string> extra = {});

    directory::Store& store_;
    const SecretBox& box_;
    directory::Audit& audit_;
    const core::Clock& clock_;
    TotpParams params_;
};

/// `mfa.confirm` on either socket: finishes the connection's enrolment in progress (and ends
/// it when the device is stored), or says why not.
proto::Response answer_confirm(Mfa& mfa, std::optional<PendingEnrolment>& enrolment,
                               const proto::MfaConfirm& confirm, const std::string& by);

/// The fewest digits a TOTP device may have (totp.hpp allows 6, 7 or 8).
inline constexpr unsigned min_code_digits = 6;

/// The answer of a single-prompt logon split into password and second factor: a trailing
/// code of `digits` digits, or a trailing recovery code ("xxxx-xxxx-xxxx"). nullopt when the
/// answer ends in neither.
struct SplitAnswer {
    core::Secret password;
    core::Secret code;
};
std::optional<SplitAnswer> split_single_answer(const core::Secret& answer, unsigned digits);

} // namespace latchkey::credentials
