// SPDX-License-Identifier: Apache-2.0
// The security key plugged into this machine, for a ceremony latchkeyd made: a security_key
// prompt of pam_latchkey.so, or an enrolment by latchkeyctl. Neither links libfido2 nor touches
// a device: they start latchkey-fido with one end of a socketpair and relay
// (proto/security_key.hpp): the PIN from the person when the key wants it, the touch notice
// while it waits, and the result back to the daemon.
#pragma once

#include <functional>
#include <string>

#include "core/result.hpp"
#include "core/secret.hpp"
#include "proto/security_key.hpp"

namespace latchkey::proto {

/// What the key needs from the person while it runs.
struct KeyPrompts {
    std::function<core::Result<core::Secret>(int retries)> ask_pin; ///< retries: -1 unknown
    std::function<core::Status()> touch;                            ///< "Touch your key"
};

class SecurityKeys {
public:
    virtual ~SecurityKeys() = default;
    /// Runs the ceremony. A key that gave no answer is a result with its problem; an error is
    /// the helper's own failure (not installed, crashed, the conversation broke).
    virtual core::Result<SecurityKeyResult> run(const SecurityKeyCeremony& ceremony,
                                                const KeyPrompts& prompts) = 0;

protected:
    SecurityKeys() = default;
    SecurityKeys(const SecurityKeys&) = default;
    SecurityKeys& operator=(const SecurityKeys&) = default;
};

/// latchkey-fido at `helper`, for the key at `device` ("usb", or "unix:PATH"). It runs with
/// a clean environment, /dev/null for output, no descriptor of the caller's but its socket,
/// and is killed if it outlives the ceremony's timeout.
class HelperKeys final : public SecurityKeys {
public:
    HelperKeys(std::string helper, std::string device);
    core::Result<SecurityKeyResult> run(const SecurityKeyCeremony& ceremony,
                                        const KeyPrompts& prompts) override;

private:
    std::string helper_;
    std::string device_;
};

} // namespace latchkey::proto
