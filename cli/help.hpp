// SPDX-License-Identifier: Apache-2.0
// latchkeyctl's help texts, the version line and the hint after a usage error.
#pragma once

#include <string>
#include <string_view>

namespace latchkey::cli {

struct UsageError;

/// The one-line hint printed after a usage error: "Run 'latchkeyctl user create --help' ...".
std::string usage_hint(const UsageError& e);

/// The help text of a topic (see Invocation::help_topic).
std::string help_text(std::string_view topic);

std::string version_text();

} // namespace latchkey::cli
