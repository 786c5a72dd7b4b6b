// SPDX-License-Identifier: Apache-2.0
// Prompter, how a hook talks to the person, and pam::Conversation, its pam_conv implementation.
#pragma once

#include <string_view>

#include "core/result.hpp"
#include "core/secret.hpp"
#include "proto/messages.hpp"

struct pam_handle; // pam_handle_t, from <security/_pam_types.h>

namespace latchkey::pam {

/// The person at the other end of the application (Kanidm's PamHandler). Failures are errors
/// in pam_category() (to_pam.hpp) with the conversation's PAM code.
class Prompter {
public:
    virtual ~Prompter() = default;

    /// Asks and returns the answer; `style` is echo_off or echo_on.
    virtual core::Result<core::Secret> ask(proto::PromptStyle style, std::string_view text) = 0;

    /// Shows a line that needs no answer; `style` is info or error.
    virtual core::Status show(proto::PromptStyle style, std::string_view text) = 0;

protected:
    Prompter() = default;
    Prompter(const Prompter&) = default;
    Prompter& operator=(const Prompter&) = default;
};

/// The application's pam_conv, looked up from the handle at each call.
class Conversation final : public Prompter {
public:
    explicit Conversation(pam_handle* handle) noexcept
        : handle_(handle)
    {
    }

    core::Result<core::Secret> ask(proto::PromptStyle style, std::string_view text) override;
    core::Status show(proto::PromptStyle style, std::string_view text) override;

private:
    pam_handle* handle_;
};

} // namespace latchkey::pam
