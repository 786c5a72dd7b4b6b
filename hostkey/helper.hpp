// SPDX-License-Identifier: Apache-2.0
// latchkey-fido's work: one security key ceremony for pam_latchkey.so, over the conversation
// of proto/security_key.hpp. The module never touches USB or libfido2; this does, and answers
// with what a browser would send, so the daemon verifies it as it verifies a browser's.
#pragma once

#include <string>

#include "core/result.hpp"
#include "proto/channel.hpp"
#include "proto/security_key.hpp"

namespace latchkey::hostkey {

/// The clientDataJSON of `ceremony` as a browser writes it (type, challenge, origin,
/// crossOrigin false).
std::string client_data_json(const proto::SecurityKeyCeremony& ceremony);

/// Serves one ceremony: reads key.start, opens its device, asks for the PIN when the key has
/// one and the ceremony wants the user verified, says key.touch, and ends with key.done, which
/// names a hostkey::Problem when the key gave no answer. An error means the conversation itself
/// failed (the module went away, or sent something else than the protocol).
core::Status serve_ceremony(proto::Channel& module);

} // namespace latchkey::hostkey
