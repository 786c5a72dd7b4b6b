// SPDX-License-Identifier: Apache-2.0
// The logon pages: plain HTML forms, no script (the Content-Security-Policy allows none), one
// stylesheet. Every value is escaped here; callers pass plain text.
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

/// "Sign in": the user name, as user@domain (general portal) or the part before a fixed
/// domain (dedicated portal).
std::string username(const FormState& form, std::string_view client_name,
                     const std::optional<std::string>& fixed_domain, std::string_view prefill,
                     std::string_view error);

/// One step of the logon dialogue: its messages, then its prompt as one input.
std::string prompt(const FormState& form, std::string_view client_name, std::string_view user,
                   const std::vector<proto::Message>& messages, const proto::Prompt& prompt);

/// What a client asks for, and Allow / Deny (the form posts `decision=allow|deny`).
std::string consent(const FormState& form, std::string_view client_name, std::string_view user,
                    const std::vector<std::string>& scopes);

/// The end of a logon that cannot go on, or an error the client must not be sent to.
std::string problem(std::string_view title, std::string_view message);

/// Signed out.
std::string signed_out(std::string_view message);

/// The stylesheet served at /static/latchkey.css.
std::string_view stylesheet();

} // namespace latchkey::oidc::pages
