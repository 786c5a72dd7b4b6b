// SPDX-License-Identifier: Apache-2.0
// The names and sentences of security key problems, one list for the helper and the daemon.
#include "proto/security_key.hpp"

#include <array>
#include <string>

namespace latchkey::proto {

namespace {

constexpr std::array all_problems{
    KeyProblem::no_device,      KeyProblem::timeout,       KeyProblem::removed,
    KeyProblem::pin_required,   KeyProblem::pin_invalid,   KeyProblem::pin_blocked,
    KeyProblem::no_credentials, KeyProblem::not_supported, KeyProblem::failed};

class Category final : public std::error_category {
public:
    const char* name() const noexcept override { return "security_key"; }

    std::string message(int ev) const override
    {
        return std::string(problem_name(static_cast<KeyProblem>(ev)));
    }
};

} // namespace

std::string_view problem_name(KeyProblem p) noexcept
{
    switch (p) {
    case KeyProblem::no_device: return "no_device";
    case KeyProblem::timeout: return "timeout";
    case KeyProblem::removed: return "removed";
    case KeyProblem::pin_required: return "pin_required";
    case KeyProblem::pin_invalid: return "pin_invalid";
    case KeyProblem::pin_blocked: return "pin_blocked";
    case KeyProblem::no_credentials: return "no_credentials";
    case KeyProblem::not_supported: return "not_supported";
    case KeyProblem::failed: return "failed";
    }
    return "failed";
}

std::string_view problem_message(KeyProblem p) noexcept
{
    switch (p) {
    case KeyProblem::no_device: return "No security key was found.";
    case KeyProblem::timeout: return "The security key was not touched in time.";
    case KeyProblem::removed: return "The security key was removed.";
    case KeyProblem::pin_required: return "The security key needs its PIN.";
    case KeyProblem::pin_invalid: return "Wrong PIN for the security key.";
    case KeyProblem::pin_blocked: return "The security key is blocked after too many wrong PINs.";
    case KeyProblem::no_credentials: return "This security key is not registered for you.";
    case KeyProblem::not_supported: return "This security key cannot do what is needed.";
    case KeyProblem::failed: return "The security key did not answer.";
    }
    return "The security key did not answer.";
}

KeyProblem problem_named(std::string_view name) noexcept
{
    for (const KeyProblem p : all_problems)
        if (problem_name(p) == name)
            return p;
    return KeyProblem::failed;
}

const std::error_category& key_problem_category() noexcept
{
    static const Category category;
    return category;
}

std::error_code make_error_code(KeyProblem p) noexcept
{
    return {static_cast<int>(p), key_problem_category()};
}

} // namespace latchkey::proto
