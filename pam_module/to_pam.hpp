// SPDX-License-Identifier: Apache-2.0
// The one place where outcomes and errors become PAM return codes (systemd's
// errno_to_pam_error), and the error category that carries libpam's own codes.
#pragma once

#include <cstdint>
#include <string>
#include <system_error>

#include "core/result.hpp"
#include "proto/messages.hpp"

namespace latchkey::pam {

/// Which pam_sm_* is answering: the same error means different codes in different hooks.
enum class Hook : std::uint8_t {
    authenticate,
    account,
    password_prelim, ///< pam_sm_chauthtok with PAM_PRELIM_CHECK
    password,        ///< pam_sm_chauthtok with PAM_UPDATE_AUTHTOK
    open_session,
    close_session,
};

/// Errors whose value is a PAM return code (a libpam call or the conversation failed).
const std::error_category& pam_category() noexcept;

/// An Error carrying the PAM code `code`; `what` says which call failed.
core::Error pam_code_error(int code, std::string what);

/// The daemon's decision as a PAM code; the same in every hook.
int to_pam(proto::Outcome outcome) noexcept;

/// A failure as a PAM code:
///   pam_category()      its own code (PAM_CONV_AGAIN becomes PAM_INCOMPLETE);
///   password_prelim     PAM_TRY_AGAIN;
///   open/close_session  PAM_SESSION_ERR;
///   otherwise           daemon_* -> PAM_AUTHINFO_UNAVAIL, permission_denied -> PAM_PERM_DENIED,
///                       anything else -> PAM_SERVICE_ERR.
/// PAM_BUF_ERR always stays PAM_BUF_ERR.
int to_pam(const core::Error& error, Hook hook) noexcept;

/// How a hook ended, as its return code.
int to_pam(const core::Result<proto::Outcome>& ending, Hook hook) noexcept;

/// "PAM_AUTH_ERR": the symbolic name of a PAM code, for debug logs and test messages.
const char* pam_code_name(int code) noexcept;

} // namespace latchkey::pam
