// SPDX-License-Identifier: Apache-2.0
// The logon and account pages: plain HTML forms and one stylesheet. Pages that offer a passkey
// load one script of our own, /static/passkey.js (the Content-Security-Policy allows no other),
// which only calls the browser's WebAuthn API and fills in or posts a form; everything works
// without it but the passkeys. Every value is escaped here; callers pass plain text.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/messages.hpp"

namespace latchkey::oidc::pages {

/// Hidden fields every form carries: the logon transaction and its CSRF token.
struct FormState {
    std::string tx;
    std::string csrf;
};

/// A passkey the page offers: the options for navigator.credentials.get() (JSON of WebAuthn
/// §5.5), and whether the browser may also offer it in the user name's autofill (conditional
/// mediation: a discoverable sign-in on the user-name page).
struct PasskeyOffer {
    std::string options_json;
    bool conditional = false;
};

/// "Sign in": the user name, as user@domain (general portal) or the part before a fixed
/// domain (dedicated portal); with a passkey offer, "Sign in with a passkey" too.
std::string username(const FormState& form, std::string_view client_name,
                     const std::optional<std::string>& fixed_domain, std::string_view prefill,
                     std::string_view error, const std::optional<PasskeyOffer>& passkey = {});

/// One step of the logon dialogue: its messages, then its prompt as one input; with a passkey
/// offer (the password step), "Log on with Passkey" above it and the password as the fallback.
std::string prompt(const FormState& form, std::string_view client_name, std::string_view user,
                   const std::vector<proto::Message>& messages, const proto::Prompt& prompt,
                   const std::optional<PasskeyOffer>& passkey = {});

/// The self-service account page of a signed-in user.
struct AccountView {
    std::string logon_name;
    std::string csrf; ///< the session's token for the page's forms
    std::vector<proto::PasskeyInfo> passkeys;
    bool passkeys_enabled = true;    ///< the provider has a relying party for them
    bool passkey_logon_allowed = true; ///< the account's allow_passkey_logon
    bool may_change_password = true; ///< the account's allow_change_password
    bool has_password = true;
    std::string notice;              ///< what the last change did
    std::string error;
    std::string password_error;      ///< why the password was not changed
    bool may_manage_mfa = true;      ///< the account's allow_manage_mfa
    bool has_mfa_device = false;
    const proto::MfaChallenge* enrolling = nullptr;            ///< an enrolment under way
    const std::vector<core::Secret>* recovery_codes = nullptr; ///< just made: shown once
    std::string mfa_error;
};
std::string account(const AccountView& view);

/// What a client asks for, and Allow / Deny (the form posts `decision=allow|deny`).
std::string consent(const FormState& form, std::string_view client_name, std::string_view user,
                    const std::vector<std::string>& scopes);

/// What the /device page shows of a request waiting for approval.
struct DeviceView {
    std::string csrf;
    std::string logon_name; ///< who is signed in
    std::string user_code;  ///< "WDJB-MJHT"; empty: ask for one
    std::string error;      ///< why the code typed is not shown
    // what asks: a logon at a host, or an application
    std::string title; ///< "Sign in to host1 as alice@web.example.internal?"
    std::vector<std::pair<std::string, std::string>> details; ///< label, value
};

/// The /device page: a code to type, or what the code asks for with Approve / Deny (the form
/// posts `code` and `decision=approve|deny` to /device).
std::string device(const DeviceView& view);

/// The end of a decision on the /device page.
std::string device_done(std::string_view title, std::string_view message);

/// The end of a logon that cannot go on, or an error the client must not be sent to.
std::string problem(std::string_view title, std::string_view message);

/// Signed out.
std::string signed_out(std::string_view message);

/// Signed in at a portal directly (no application waiting): who, and the way to the account page.
std::string signed_in(std::string_view logon_name);

/// The stylesheet served at /static/latchkey.css.
std::string_view stylesheet();

/// The script served at /static/passkey.js.
std::string_view passkey_script();

} // namespace latchkey::oidc::pages
