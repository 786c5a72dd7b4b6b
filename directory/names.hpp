// SPDX-License-Identifier: Apache-2.0
// Validation of the names people type: account names, domains, user names, display names.
#pragma once

#include <string>
#include <string_view>

#include "core/result.hpp"

namespace latchkey::directory {

/// A DNS label: 1-63 of [a-z0-9-], not starting or ending with '-'.
core::Status check_account_name(std::string_view name);

/// A lower-case DNS name of at least two labels, at most 253 characters.
core::Status check_domain(std::string_view domain);

/// A POSIX-style login name: [a-z_][a-z0-9._-]{0,31}. "root" is reserved for account roots.
core::Status check_user_name(std::string_view name);

/// 1-128 characters with no control characters.
core::Status check_display_name(std::string_view name);
/// An email address: local@domain, at most 254 characters, no blanks or control characters.
core::Status check_email(std::string_view email);

/// A path for a passwd entry (a home directory, a login shell), `what` naming it in the error:
/// absolute, at most 255 bytes, no ':' (the field separator) and no control characters, no
/// empty, "." or ".." components, and not "/" itself.
core::Status check_unix_path(std::string_view path, std::string_view what);

/// The configured home directory pattern with %u replaced by the user's name; the pattern must
/// hold %u and no other '%' (checked with the configuration: check_home_pattern).
std::string home_of(std::string_view pattern, std::string_view user_name);
core::Status check_home_pattern(std::string_view pattern);

} // namespace latchkey::directory
