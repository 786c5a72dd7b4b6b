// SPDX-License-Identifier: Apache-2.0
// Outcomes and errors to PAM return codes.
#include "pam_module/to_pam.hpp"

#include <security/pam_appl.h>

#include <new>

namespace latchkey::pam {

namespace {

class PamCategory final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "pam"; }

    [[nodiscard]] std::string message(int ev) const override { return pam_code_name(ev); }
};

bool is_daemon_error(const core::Error& e) noexcept
{
    return e.is(core::Errc::daemon_unreachable) || e.is(core::Errc::daemon_timeout) ||
           e.is(core::Errc::daemon_untrusted) || e.is(core::Errc::daemon_busy);
}

} // namespace

const std::error_category& pam_category() noexcept
{
    // Never destroyed: the module is dlclose()d by pam_end(), and no destructor of ours may be
    // left to run after that (STYLE §8: no globals with non-trivial destructors).
    alignas(PamCategory) static unsigned char storage[sizeof(PamCategory)];
    static const PamCategory* const category = new (storage) PamCategory;
    return *category;
}

core::Error pam_code_error(int code, std::string what)
{
    return core::Error{std::error_code(code, pam_category()), std::move(what)};
}

int to_pam(proto::Outcome outcome) noexcept
{
    using proto::Outcome;
    switch (outcome) {
    case Outcome::success: return PAM_SUCCESS;
    case Outcome::denied: return PAM_AUTH_ERR;
    case Outcome::ignore: return PAM_IGNORE;
    case Outcome::unavailable: return PAM_AUTHINFO_UNAVAIL;
    case Outcome::permission_denied: return PAM_PERM_DENIED;
    case Outcome::new_authtok_required: return PAM_NEW_AUTHTOK_REQD;
    case Outcome::authtok_error: return PAM_AUTHTOK_ERR;
    case Outcome::account_expired: return PAM_ACCT_EXPIRED;
    }
    return PAM_SERVICE_ERR; // a value this build does not know: fail closed
}

int to_pam(const core::Error& error, Hook hook) noexcept
{
    const bool session = hook == Hook::open_session || hook == Hook::close_session;
    if (error.code.category() == pam_category()) {
        const int code = error.code.value();
        if (code == PAM_BUF_ERR)
            return PAM_BUF_ERR;
        if (session)
            return PAM_SESSION_ERR;
        if (hook == Hook::password_prelim)
            return PAM_TRY_AGAIN;
        // The application wants to be called again; the dialogue then starts over.
        if (code == PAM_CONV_AGAIN)
            return PAM_INCOMPLETE;
        return code == PAM_SUCCESS ? PAM_SERVICE_ERR : code;
    }
    if (hook == Hook::password_prelim)
        return PAM_TRY_AGAIN;
    if (session)
        return PAM_SESSION_ERR;
    if (is_daemon_error(error))
        return PAM_AUTHINFO_UNAVAIL;
    if (error.is(core::Errc::permission_denied))
        return PAM_PERM_DENIED;
    return PAM_SERVICE_ERR;
}

int to_pam(const core::Result<proto::Outcome>& ending, Hook hook) noexcept
{
    return ending ? to_pam(*ending) : to_pam(ending.error(), hook);
}

const char* pam_code_name(int code) noexcept
{
    switch (code) {
    case PAM_SUCCESS: return "PAM_SUCCESS";
    case PAM_OPEN_ERR: return "PAM_OPEN_ERR";
    case PAM_SYMBOL_ERR: return "PAM_SYMBOL_ERR";
    case PAM_SERVICE_ERR: return "PAM_SERVICE_ERR";
    case PAM_SYSTEM_ERR: return "PAM_SYSTEM_ERR";
    case PAM_BUF_ERR: return "PAM_BUF_ERR";
    case PAM_PERM_DENIED: return "PAM_PERM_DENIED";
    case PAM_AUTH_ERR: return "PAM_AUTH_ERR";
    case PAM_CRED_INSUFFICIENT: return "PAM_CRED_INSUFFICIENT";
    case PAM_AUTHINFO_UNAVAIL: return "PAM_AUTHINFO_UNAVAIL";
    case PAM_USER_UNKNOWN: return "PAM_USER_UNKNOWN";
    case PAM_MAXTRIES: return "PAM_MAXTRIES";
    case PAM_NEW_AUTHTOK_REQD: return "PAM_NEW_AUTHTOK_REQD";
    case PAM_ACCT_EXPIRED: return "PAM_ACCT_EXPIRED";
    case PAM_SESSION_ERR: return "PAM_SESSION_ERR";
    case PAM_CRED_UNAVAIL: return "PAM_CRED_UNAVAIL";
    case PAM_CRED_EXPIRED: return "PAM_CRED_EXPIRED";
    case PAM_CRED_ERR: return "PAM_CRED_ERR";
    case PAM_NO_MODULE_DATA: return "PAM_NO_MODULE_DATA";
    case PAM_CONV_ERR: return "PAM_CONV_ERR";
    case PAM_AUTHTOK_ERR: return "PAM_AUTHTOK_ERR";
    case PAM_AUTHTOK_RECOVERY_ERR: return "PAM_AUTHTOK_RECOVERY_ERR";
    case PAM_AUTHTOK_LOCK_BUSY: return "PAM_AUTHTOK_LOCK_BUSY";
    case PAM_AUTHTOK_DISABLE_AGING: return "PAM_AUTHTOK_DISABLE_AGING";
    case PAM_TRY_AGAIN: return "PAM_TRY_AGAIN";
    case PAM_IGNORE: return "PAM_IGNORE";
    case PAM_ABORT: return "PAM_ABORT";
    case PAM_AUTHTOK_EXPIRED: return "PAM_AUTHTOK_EXPIRED";
    case PAM_MODULE_UNKNOWN: return "PAM_MODULE_UNKNOWN";
    case PAM_BAD_ITEM: return "PAM_BAD_ITEM";
    case PAM_CONV_AGAIN: return "PAM_CONV_AGAIN";
    case PAM_INCOMPLETE: return "PAM_INCOMPLETE";
    default: return "PAM_(unknown)";
    }
}

} // namespace latchkey::pam
