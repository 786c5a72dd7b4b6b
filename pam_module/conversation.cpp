// SPDX-License-Identifier: Apache-2.0
// The pam_conv round trip: one message out, one malloc()ed answer back, wiped and freed.
#include "pam_module/conversation.hpp"

#include <security/pam_appl.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "core/c_handle.hpp"
#include "pam_module/to_pam.hpp"

namespace latchkey::pam {

namespace {

/// The application allocates the responses with malloc(); the answers may be passwords.
void free_responses(pam_response* r) noexcept
{
    if (r == nullptr)
        return;
    if (r->resp != nullptr) {
        core::wipe(r->resp, std::strlen(r->resp));
        std::free(r->resp); // NOLINT(cppcoreguidelines-no-malloc)
    }
    std::free(r); // NOLINT(cppcoreguidelines-no-malloc)
}

using Responses = std::unique_ptr<pam_response, core::CFree<free_responses>>;

int to_msg_style(proto::PromptStyle style) noexcept
{
    switch (style) {
    case proto::PromptStyle::echo_off: return PAM_PROMPT_ECHO_OFF;
    case proto::PromptStyle::echo_on: return PAM_PROMPT_ECHO_ON;
    case proto::PromptStyle::info: return PAM_TEXT_INFO;
    case proto::PromptStyle::error: return PAM_ERROR_MSG;
    }
    return PAM_ERROR_MSG;
}

/// Sends one message; the responses (if the application gave any) are returned either way.
core::Result<Responses> converse(pam_handle_t* h, int style, std::string_view text)
{
    const void* item = nullptr;
    const int got = pam_get_item(h, PAM_CONV, &item);
    const auto* conv = static_cast<const pam_conv*>(item);
    if (got != PAM_SUCCESS || conv == nullptr || conv->conv == nullptr)
        return core::fail(pam_code_error(PAM_CONV_ERR, "the application has no conversation"));

    const std::string line(text);
    const pam_message message{style, line.c_str()};
    const pam_message* messages[] = {&message};
    pam_response* raw = nullptr;
    const int r = conv->conv(1, messages, &raw, conv->appdata_ptr);
    Responses responses(raw);
    if (r != PAM_SUCCESS)
        return core::fail(pam_code_error(r, std::string("the conversation failed: ") +
                                           pam_strerror(h, r)));
    return responses;
}

} // namespace

core::Result<core::Secret> Conversation::ask(proto::PromptStyle style, std::string_view text)
{
    LATCHKEY_TRY(responses, converse(handle_, to_msg_style(style), text));
    if (!responses || responses->resp == nullptr)
        return core::fail(pam_code_error(PAM_CONV_ERR, "the conversation returned no answer"));
    return core::Secret(responses->resp);
}

core::Status Conversation::show(proto::PromptStyle style, std::string_view text)
{
    auto shown = converse(handle_, to_msg_style(style), text);
    if (!shown)
        return core::fail(std::move(shown).error());
    return {};
}

} // namespace latchkey::pam
